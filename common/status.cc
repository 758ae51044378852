#include "common/status.h"

namespace ctxd {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kInvalidArgument: return "BAD_REQUEST";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kConflict: return "CONFLICT";
    case StatusCode::kNothingToUndo: return "NOTHING_TO_UNDO";
    case StatusCode::kNothingToRedo: return "NOTHING_TO_REDO";
    case StatusCode::kPreconditionFailed: return "PRECONDITION_FAILED";
    case StatusCode::kPayloadTooLarge: return "PAYLOAD_TOO_LARGE";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kCorruption: return "CORRUPTION";
    case StatusCode::kInternal: return "INTERNAL_ERROR";
  }
  return "INTERNAL_ERROR";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

}  // namespace ctxd
