// SPDX-License-Identifier: BSD-3-Clause
// Real-stack cases run in a forked child: session keyrings and credentials
// belong to the thread, and whatever one case does to them must not leak
// into the next.
#pragma once

#include <functional>
#include <string>

namespace pam_keyinit::test {

// Runs body in a forked child and reports its outcome in the calling test:
// any gtest failure in the child fails the test (the child prints it), a
// crash or a timeout fails it, and skip_child() skips it.
void run_in_child(const std::function<void()>& body, unsigned timeout_seconds = 120);

// Ends the child as skipped, with the reason shown by the parent.
[[noreturn]] void skip_child(const std::string& reason);

// Skips the calling test unless the process runs as root.
#define PAM_KEYINIT_REQUIRE_ROOT()                                                              \
    do {                                                                                        \
        if (::geteuid() != 0) {                                                                 \
            GTEST_SKIP() << "needs root: it switches user IDs and changes the kernel keyrings " \
                            "of real users";                                                    \
        }                                                                                       \
    } while (false)

}  // namespace pam_keyinit::test
