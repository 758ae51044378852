#include "tests/tools/dump_parsers.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ctxd::testutil {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// "<json string>: rest" -> {name, rest}; false when the line is no entry.
bool SplitEntry(const std::string& line, std::string* name, std::string* rest) {
  if (line.empty() || line[0] != '"') return false;
  size_t end = 1;
  while (end < line.size() && line[end] != '"') end += line[end] == '\\' ? 2 : 1;
  *name = nlohmann::json::parse(line.substr(0, end + 1)).get<std::string>();
  if (line.compare(end + 1, 2, ": ") != 0) return false;
  *rest = line.substr(end + 3);
  return true;
}

// A txt key or node id: a JSON string when it starts with '"'.
std::pair<std::string, std::string> SplitTxtLine(const std::string& line) {
  if (line[0] == '"') {
    size_t end = 1;
    while (line[end] != '"') end += line[end] == '\\' ? 2 : 1;
    return {nlohmann::json::parse(line.substr(0, end + 1)).get<std::string>(), line.substr(end + 2)};
  }
  size_t eq = line.find('=');
  return {line.substr(0, eq), line.substr(eq + 1)};
}

nlohmann::json NodeWithoutSession(nlohmann::json node) {
  node.erase("session");
  return node;
}

}  // namespace

std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    std::string& field = rows.back().back();
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\r' || c == '\n') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      rows.emplace_back(1);
    } else {
      field.push_back(c);
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();
  return rows;
}

nlohmann::json ParseJsonDump(const std::string& text) { return nlohmann::json::parse(text); }

ParsedDump ParsePrettyDump(const std::string& text) {
  struct Entry {
    std::string section, session, name, value;
  };
  ParsedDump dump;
  std::vector<Entry> entries;
  bool open = false;  // the last entry may take continuation lines
  std::string section, session;
  for (const std::string& line : Lines(text)) {
    const std::string base = section == "SESSIONS" ? "  " : "";
    if (open && line.starts_with(base + "  ")) {
      entries.back().value += "\n" + line;
      continue;
    }
    open = false;
    std::string name, rest;
    if (line.starts_with("CONTEXT (") || line.starts_with("SESSIONS (") || line.starts_with("HISTORY (")) {
      section = line.substr(0, line.find(' '));
    } else if (section.empty() && line.find(": ") != std::string::npos) {
      dump.metadata[line.substr(0, line.find(": "))] = line.substr(line.find(": ") + 2);
    } else if (section == "SESSIONS" && line.starts_with("SESSION ")) {
      session = nlohmann::json::parse(line.substr(8, line.rfind(" (") - 8)).get<std::string>();
      dump.sessions[session]["nodes"] = nlohmann::json::array();
    } else if ((section == "CONTEXT" || section == "SESSIONS") && line.starts_with(base) &&
               SplitEntry(line.substr(base.size()), &name, &rest)) {
      entries.push_back({section, session, name, rest});
      open = true;
    }
  }
  for (const Entry& e : entries) {
    nlohmann::json value = nlohmann::json::parse(e.value);
    if (e.section == "CONTEXT") {
      dump.context[e.name] = value;
    } else {
      dump.sessions[e.session]["nodes"].push_back(value);
    }
  }
  return dump;
}

ParsedDump ParseCsvDump(const std::string& text) {
  ParsedDump dump;
  auto rows = ParseCsv(text);
  EXPECT_FALSE(rows.empty());
  if (rows.empty()) return dump;
  EXPECT_EQ(rows[0], (std::vector<std::string>{"Key", "Value", "Type", "Dump_Timestamp", "Requested_By"}));
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    EXPECT_EQ(row.size(), 5u) << "row " << i;
    if (row.size() != 5) continue;
    dump.metadata["Dump_Timestamp"] = row[3];
    dump.metadata["Requested_By"] = row[4];
    if (row[2] == "graph_node") {
      nlohmann::json node = nlohmann::json::parse(row[1]);
      dump.sessions[node.at("session").get<std::string>()]["nodes"].push_back(NodeWithoutSession(node));
    } else {
      dump.context[row[0]] = row[2] == "str" ? nlohmann::json(row[1]) : nlohmann::json::parse(row[1]);
      dump.context_text[row[0]] = row[2];  // the Type column
    }
  }
  return dump;
}

ParsedDump ParseTxtDump(const std::string& text) {
  ParsedDump dump;
  std::string session;
  for (const std::string& line : Lines(text)) {
    if (line.starts_with("# session ")) {
      session = line.substr(10, line.rfind(": ") - 10);
      dump.sessions[session]["nodes"] = nlohmann::json::array();
    } else if (line.starts_with("# ")) {
      size_t colon = line.find(": ");
      if (colon != std::string::npos) dump.metadata[line.substr(2, colon - 2)] = line.substr(colon + 2);
    } else if (!session.empty()) {
      dump.sessions[session]["nodes"].push_back(nlohmann::json::parse(SplitTxtLine(line).second));
    } else {
      auto [key, value] = SplitTxtLine(line);
      dump.context_text[key] = value;
      auto parsed = nlohmann::json::parse(value, nullptr, false);
      dump.context[key] = parsed.is_discarded() ? nlohmann::json(value) : parsed;
    }
  }
  return dump;
}

nlohmann::json ExpectedContext(const engine::State& state) {
  nlohmann::json context = nlohmann::json::object();
  for (const auto& [key, entry] : state.context) context[key] = nlohmann::json::parse(entry.value.view());
  return context;
}

nlohmann::json ExpectedNodes(const engine::Session& session) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const auto& [id, node] : session.graph.nodes) {
    nlohmann::json props = nlohmann::json::object();
    for (const auto& [name, value] : node.props) props[name] = nlohmann::json::parse(value);
    nodes.push_back({{"id", id},
                     {"type", node.type},
                     {"name", node.name},
                     {"props", props},
                     {"parents", node.parents},
                     {"children", node.children}});
  }
  return nodes;
}

}  // namespace ctxd::testutil
