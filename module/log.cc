#include "pam_keyinit/log.h"

#include <cstring>

namespace pam_keyinit {

void Log::line(int priority, const char* format, ...) noexcept {
    va_list args;
    va_start(args, format);
    system_.vlog(pamh_, priority, format, args);
    va_end(args);
}

void Log::debug(const char* format, ...) noexcept {
    if (!debug_) {
        return;
    }
    va_list args;
    va_start(args, format);
    system_.vlog(pamh_, LOG_DEBUG, format, args);
    va_end(args);
}

int Log::fail(int code, int priority, const char* format, ...) noexcept {
    va_list args;
    va_start(args, format);
    system_.vlog(pamh_, priority, format, args);
    va_end(args);
    return code;
}

const char* errno_text(int error) noexcept {
    // strerrordesc_np() returns static text: no buffer, no locale, no race.
    const char* text = strerrordesc_np(error);
    return text != nullptr ? text : "unknown error";
}

}  // namespace pam_keyinit
