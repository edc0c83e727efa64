// SPDX-License-Identifier: BSD-3-Clause
// The floor of the benchmarks: it costs what loading a session module costs
// and nothing more. It is listed in the same stack, with the same arguments,
// as the modules it is compared with.
#include <security/pam_modules.h>

#define PAM_BENCH_EXPORT extern "C" __attribute__((visibility("default")))

PAM_BENCH_EXPORT int pam_sm_open_session(pam_handle_t*, int, int, const char**) {
    return PAM_SUCCESS;
}

PAM_BENCH_EXPORT int pam_sm_close_session(pam_handle_t*, int, int, const char**) {
    return PAM_SUCCESS;
}
