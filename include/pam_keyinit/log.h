// SPDX-License-Identifier: BSD-3-Clause
// Every line the module writes goes through here, and from here through
// pam_vsyslog(): never openlog(), never stderr.
#pragma once

#include <syslog.h>

#include "pam_keyinit/system.h"

namespace pam_keyinit {

#define PAM_KEYINIT_PRINTF(format_index) \
    __attribute__((format(printf, format_index, format_index + 1)))

class Log {
public:
    Log(const System& system, pam_handle_t* pamh) noexcept : system_(system), pamh_(pamh) {}

    void enable_debug(bool on) noexcept { debug_ = on; }
    bool debugging() const noexcept { return debug_; }

    void line(int priority, const char* format, ...) const noexcept PAM_KEYINIT_PRINTF(3);
    // LOG_DEBUG, and only with the debug option.
    void debug(const char* format, ...) const noexcept PAM_KEYINIT_PRINTF(2);
    // Logs at priority and returns code, so that a failure reads as one step:
    //   return log.fail(phase.error, LOG_ERR, "...");
    int fail(int code, int priority, const char* format, ...) const noexcept PAM_KEYINIT_PRINTF(4);
    // The one way a call that failed with a negative errno ends a PAM call:
    // logs "<format>: <error's text>" and returns the result, PAM_BUF_ERR at
    // LOG_CRIT for -ENOMEM and code at LOG_ERR for any other error
    // (doc/design.md, "Failures").
    int fail_errno(int code, long error, const char* format, ...) const noexcept
        PAM_KEYINIT_PRINTF(4);

private:
    const System& system_;
    pam_handle_t* pamh_;
    bool debug_ = false;
};

// The text of an errno value, e.g. "Disk quota exceeded"; never null.
const char* errno_text(int error) noexcept;

}  // namespace pam_keyinit
