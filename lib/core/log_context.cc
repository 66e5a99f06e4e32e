#include "lib/core/log_context.h"

#include <utility>

namespace maintd {

namespace {
thread_local LogContext t_context;
}  // namespace

const LogContext& CurrentLogContext() { return t_context; }

ScopedLogContext::ScopedLogContext(std::string db, std::string job)
    : previous_(std::exchange(t_context, LogContext{std::move(db), std::move(job)})) {}

ScopedLogContext::~ScopedLogContext() { t_context = std::move(previous_); }

}  // namespace maintd
