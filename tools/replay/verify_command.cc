// ctxd-replay verify: the report on stdout; exit 1 when anything is wrong.
#include "tools/replay/commands.h"
#include "tools/replay/secondary_log.h"
#include "tools/replay/verify.h"

namespace ctxd::replay {

int RunVerify(const std::string& data_dir, Progress::Mode progress_mode, std::ostream& out) {
  auto secondary = SecondaryLog::Open(data_dir);
  if (!secondary.ok()) return Fail(secondary.status().ToString());
  const log::EventLog& log = (*secondary)->log();
  Progress progress("verifying events", log.head_seq(), progress_mode);
  VerifyReport report = VerifyLog(log, [&](uint64_t seq) { progress.Update(seq); });
  progress.Finish();
  out << FormatVerifyReport(report);
  out.flush();
  return report.ok() ? kExitOk : kExitFailure;
}

}  // namespace ctxd::replay
