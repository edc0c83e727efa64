// SPDX-License-Identifier: BSD-3-Clause
#include "pam_keyinit/log.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace pam_keyinit {

void Log::line(int priority, const char* format, ...) const noexcept {
    va_list args;
    va_start(args, format);
    system_.vlog(pamh_, priority, format, args);
    va_end(args);
}

void Log::debug(const char* format, ...) const noexcept {
    if (!debug_) {
        return;
    }
    va_list args;
    va_start(args, format);
    system_.vlog(pamh_, LOG_DEBUG, format, args);
    va_end(args);
}

int Log::fail(int code, int priority, const char* format, ...) const noexcept {
    va_list args;
    va_start(args, format);
    system_.vlog(pamh_, priority, format, args);
    va_end(args);
    return code;
}

int Log::fail_errno(int code, long error, const char* format, ...) const noexcept {
    // What the caller says, then the error's text, in one line: one call to
    // the logger, so that nothing can come between the two halves.
    char what[1024];
    va_list args;
    va_start(args, format);
    std::vsnprintf(what, sizeof what, format, args);
    va_end(args);
    const bool out_of_memory = error == -ENOMEM;
    line(out_of_memory ? LOG_CRIT : LOG_ERR, "%s: %s", what, errno_text(static_cast<int>(-error)));
    return out_of_memory ? PAM_BUF_ERR : code;
}

const char* errno_text(int error) noexcept {
    // strerrordesc_np() returns static text: no buffer, no locale, no race.
    const char* text = strerrordesc_np(error);
    return text != nullptr ? text : "unknown error";
}

}  // namespace pam_keyinit
