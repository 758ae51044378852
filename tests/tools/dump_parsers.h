// Readers for the four dump formats, written from docs/replay.md (not from
// the writers), so that tests can parse a dump back and compare it with the
// state it was taken from. Test-only; they assume well-formed input and
// report what they cannot read through gtest failures.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/state.h"

namespace ctxd::testutil {

// RFC 4180 records (CRLF or LF line ends, quoted fields with "" escapes).
std::vector<std::vector<std::string>> ParseCsv(const std::string& text);

struct ParsedDump {
  std::map<std::string, std::string> metadata;      // txt/pretty: as written
  std::map<std::string, nlohmann::json> context;    // key -> value
  std::map<std::string, std::string> context_text;  // txt: key -> text after '='
  std::map<std::string, nlohmann::json> sessions;   // id -> {"nodes": [..]}
};

// json: the document itself.
nlohmann::json ParseJsonDump(const std::string& text);
// pretty: entries of the CONTEXT and SESSIONS sections, metadata lines.
ParsedDump ParsePrettyDump(const std::string& text);
// csv: rows by Type (graph_node rows become sessions); checks the header.
ParsedDump ParseCsvDump(const std::string& text);
// txt: "# name: value" metadata, key=value lines, "# session" sections.
// Values are kept as text (context_text); context holds them parsed as
// JSON when the text starts with '"' or parses as JSON, else as strings.
ParsedDump ParseTxtDump(const std::string& text);

// What the dumps should contain, built from the state independently of the
// writers: key -> JSON value, and session -> {"nodes": [{id, type, name,
// props, parents, children}]}.
nlohmann::json ExpectedContext(const engine::State& state);
nlohmann::json ExpectedNodes(const engine::Session& session);

}  // namespace ctxd::testutil
