// SPDX-License-Identifier: BSD-3-Clause
// The module's C ABI: each entry point hands its phase to the C++ code.
// Nothing here or below throws (the code is built without exceptions).
#include <security/pam_modules.h>

#include "pam_keyinit/session.h"

using pam_keyinit::kernel_system;

// Built with -fvisibility=hidden; the version script lists the same four.
#define PAM_KEYINIT_EXPORT extern "C" __attribute__((visibility("default")))

PAM_KEYINIT_EXPORT int pam_sm_authenticate(pam_handle_t* pamh, int, int argc, const char** argv) {
    return pam_keyinit::authenticate(kernel_system(), pamh, argc, argv);
}

PAM_KEYINIT_EXPORT int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc, const char** argv) {
    return pam_keyinit::set_credentials(kernel_system(), pamh, flags, argc, argv);
}

PAM_KEYINIT_EXPORT int pam_sm_open_session(pam_handle_t* pamh, int, int argc, const char** argv) {
    return pam_keyinit::initialise(kernel_system(), pamh, pam_keyinit::open_phase, argc, argv);
}

PAM_KEYINIT_EXPORT int pam_sm_close_session(pam_handle_t* pamh, int, int argc, const char** argv) {
    return pam_keyinit::finish(kernel_system(), pamh, pam_keyinit::close_phase, argc, argv);
}
