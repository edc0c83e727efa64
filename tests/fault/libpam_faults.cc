// SPDX-License-Identifier: BSD-3-Clause
#include "libpam_faults.h"

#include <dlfcn.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iterator>

namespace pam_keyinit::test {
namespace {

struct Armed {
    bool armed = false;
    int failure = 0;
    int nth = 0;
};

// Each case runs in a forked child with one thread making PAM calls.
constexpr std::size_t step_count = std::size(all_steps);
std::array<Armed, step_count> armed;
std::array<int, step_count> calls;

size_t index_of(Step step) {
    return static_cast<size_t>(step);
}

bool called_from_module(const void* return_address) {
    Dl_info info{};
    if (dladdr(return_address, &info) == 0 || info.dli_fname == nullptr) {
        return false;
    }
    return std::strcmp(info.dli_fname, PAM_KEYINIT_MODULE_PATH) == 0;
}

// Counts a call from the module; true when this one is to fail.
bool should_fail(Step call, const void* return_address, int* failure) {
    if (!called_from_module(return_address)) {
        return false;
    }
    const int count = ++calls[index_of(call)];
    const Armed& arm = armed[index_of(call)];
    if (arm.armed && arm.nth == count) {
        *failure = arm.failure;
        return true;
    }
    return false;
}

template <typename Function>
Function real(const char* name) {
    void* symbol = dlsym(RTLD_NEXT, name);
    if (symbol == nullptr) {
        // Without the real function nothing can be tested: stop loudly.
        std::abort();
    }
    return reinterpret_cast<Function>(symbol);
}

}  // namespace

bool is_libpam_step(Step step) {
    return step == Step::get_user || step == Step::get_data || step == Step::set_data ||
           step == Step::getpwnam;
}

void fail_pam_call(Step step, int failure, int nth) {
    armed[index_of(step)] = {true, failure, nth};
}

int module_calls(Step step) {
    return calls[index_of(step)];
}

}  // namespace pam_keyinit::test

using pam_keyinit::test::real;
using pam_keyinit::test::should_fail;
using pam_keyinit::test::Step;

#define PAM_KEYINIT_INTERPOSE extern "C" __attribute__((visibility("default"), noinline))

PAM_KEYINIT_INTERPOSE int pam_get_user(pam_handle_t* pamh, const char** user, const char* prompt) {
    int failure = 0;
    if (should_fail(Step::get_user, __builtin_return_address(0), &failure)) {
        return failure;
    }
    using Function = int (*)(pam_handle_t*, const char**, const char*);
    return real<Function>("pam_get_user")(pamh, user, prompt);
}

PAM_KEYINIT_INTERPOSE int pam_get_data(const pam_handle_t* pamh, const char* name,
                                       const void** data) {
    int failure = 0;
    if (should_fail(Step::get_data, __builtin_return_address(0), &failure)) {
        return failure;
    }
    using Function = int (*)(const pam_handle_t*, const char*, const void**);
    return real<Function>("pam_get_data")(pamh, name, data);
}

PAM_KEYINIT_INTERPOSE int pam_set_data(pam_handle_t* pamh, const char* name, void* data,
                                       void (*cleanup)(pam_handle_t*, void*, int)) {
    int failure = 0;
    if (should_fail(Step::set_data, __builtin_return_address(0), &failure)) {
        return failure;
    }
    using Function =
        int (*)(pam_handle_t*, const char*, void*, void (*)(pam_handle_t*, void*, int));
    return real<Function>("pam_set_data")(pamh, name, data, cleanup);
}

PAM_KEYINIT_INTERPOSE int getpwnam_r(const char* name, struct passwd* entry, char* buffer,
                                     size_t size, struct passwd** result) {
    int failure = 0;
    if (should_fail(Step::getpwnam, __builtin_return_address(0), &failure)) {
        // 0 is "no such user": no entry, and no error.
        *result = nullptr;
        return failure;
    }
    using Function = int (*)(const char*, struct passwd*, char*, size_t, struct passwd**);
    return real<Function>("getpwnam_r")(name, entry, buffer, size, result);
}
