// SPDX-License-Identifier: BSD-3-Clause
// Failures of the libpam calls the module makes, injected into the shipped
// module unchanged: the test program defines pam_get_user, pam_get_data,
// pam_set_data and getpwnam_r itself and exports them
// (-rdynamic), so the module, which reaches them through its PLT, binds to
// these. Each forwards to libpam's own (dlsym(RTLD_NEXT)) unless a failure is
// armed for it, and only calls made from the module are counted and failed:
// libpam calls some of them itself.
#pragma once

#include "steps.h"

namespace pam_keyinit::test {

// Whether step is a libpam call that these functions stand in for:
// get_user, get_data, set_data or getpwnam.
bool is_libpam_step(Step step);

// The nth call of that step's function from the module fails: libpam
// functions return failure (a PAM code); getpwnam_r returns failure with no
// entry (0: the user is simply not there).
void fail_pam_call(Step step, int failure, int nth = 1);

// How many calls of that step's function the module has made in this process.
int module_calls(Step step);

}  // namespace pam_keyinit::test
