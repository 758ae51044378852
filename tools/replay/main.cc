// ctxd-replay: offline tools on a ctxd data directory (dump, verify, events,
// stats). It opens the directory as a RocksDB secondary, so it works while
// ctxd runs on it. Exit codes: 0 ok, 1 failure, 2 usage.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <iostream>

#include "tools/replay/commands.h"

namespace {

using ctxd::replay::Progress;

constexpr const char* kFooter =
    "Exit codes: 0 ok, 1 failure (unreadable or corrupt data, I/O error), 2 usage.\n"
    "The data directory is opened as a RocksDB secondary: ctxd may keep running and writing.\n";

// CLI11 would wrap "-1" around to a huge unsigned seq, and clamp one past
// 64 bits to the largest.
const CLI::Validator kSeq(
    [](std::string& text) {
      uint64_t seq = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
      if (ec == std::errc() && end == text.data() + text.size()) return std::string();
      return "a seq is a whole number from 0 to 18446744073709551615, not " + text;
    },
    "SEQ");

struct Common {
  std::string data_dir;
  bool quiet = false;
  Progress::Mode progress() const { return quiet ? Progress::Mode::kOff : Progress::Mode::kAuto; }
};

void AddCommon(CLI::App* command, Common& common) {
  command->add_option("--data", common.data_dir, "the ctxd data directory")
      ->required()
      ->check(CLI::ExistingDirectory);
  command->add_flag("-q,--quiet", common.quiet, "no progress display on stderr");
}

CLI::App* AddDump(CLI::App& app, Common& common, ctxd::replay::DumpOptions& options) {
  auto* dump = app.add_subcommand(
      "dump",
      "Write the context (and session graphs) as they were at a seq or a time, in one of the old context "
      "server's dump formats. The state is rebuilt from the newest snapshot at or below the target plus "
      "the events after it. Default target: the head.");
  AddCommon(dump, common);
  auto* at = dump->add_option("--at", options.at, "the seq to dump at")->check(kSeq);
  dump->add_option("--at-time", options.at_time,
                   "an RFC 3339 time: dump the state after the last event at or before it")
      ->excludes(at);
  dump->add_option("--format", options.format, "json (document), pretty (report), csv or txt (key=value)")
      ->required()
      ->check(CLI::IsMember({"json", "pretty", "csv", "txt"}));
  dump->add_option("--session", options.session,
                   "only this session's graph (json, pretty); adds its nodes to csv and txt");
  dump->add_flag("--include-history", options.include_history,
                 "add every context change up to the target (json, pretty)");
  dump->add_option("-o,--output", options.output,
                   "write to FILE atomically (temp file + rename); default stdout");
  dump->add_option("--who", options.who, "requested_by in the dump's metadata")->capture_default_str();
  return dump;
}

CLI::App* AddEvents(CLI::App& app, Common& common, ctxd::replay::EventsOptions& options) {
  auto* events = app.add_subcommand(
      "events",
      "Export events as NDJSON on stdout: one JSON event per line, the same bytes as GET /v1/events "
      "returns for each event. --from and --to are inclusive.");
  AddCommon(events, common);
  events->add_option("--from", options.from, "first seq")->capture_default_str()->check(kSeq);
  events->add_option("--to", options.to, "last seq (default: the head)")->check(kSeq);
  return events;
}

int Run(int argc, char** argv) {
  CLI::App app{
      "ctxd-replay: dumps, verification and export of a ctxd data directory, offline or while ctxd runs."};
  app.footer(kFooter);
  app.require_subcommand(1);
  Common common;
  ctxd::replay::DumpOptions dump_options;
  ctxd::replay::EventsOptions events_options;
  auto* dump = AddDump(app, common, dump_options);
  auto* events = AddEvents(app, common, events_options);
  auto* verify = app.add_subcommand(
      "verify",
      "Check the log: seqs continuous from 1 to the head, every event decodes (checksums), the whole log "
      "replays, and the replay equals every stored snapshot byte for byte. Prints a report; exit 1 names "
      "the seq and what is wrong.");
  AddCommon(verify, common);
  auto* stats = app.add_subcommand(
      "stats", "Print a JSON object: event count, head seq, keys, sessions, snapshot seqs, bytes on disk.");
  AddCommon(stats, common);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? ctxd::replay::kExitOk : ctxd::replay::kExitUsage;
  }
  if (dump->parsed()) {
    dump_options.data_dir = common.data_dir;
    dump_options.progress = common.progress();
    return ctxd::replay::RunDump(dump_options, std::cout);
  }
  if (events->parsed()) {
    events_options.data_dir = common.data_dir;
    events_options.progress = common.progress();
    return ctxd::replay::RunEvents(events_options, std::cout);
  }
  if (verify->parsed()) return ctxd::replay::RunVerify(common.data_dir, common.progress(), std::cout);
  if (stats->parsed()) return ctxd::replay::RunStats(common.data_dir, common.progress(), std::cout);
  return ctxd::replay::kExitUsage;  // unreachable: exactly one subcommand is required
}

}  // namespace

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  return Run(argc, argv);
}
