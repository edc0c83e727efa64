#include "libpam_faults.h"

#include <dlfcn.h>
#include <pwd.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pam_keyinit::test {
namespace {

struct Armed {
    bool armed = false;
    int failure = 0;
    int nth = 0;
};

// Each case runs in a forked child with one thread making PAM calls.
std::array<Armed, 4> armed;
std::array<int, 4> calls;

size_t index_of(PamCall call) {
    return static_cast<size_t>(call);
}

bool called_from_module(const void* return_address) {
    Dl_info info{};
    if (dladdr(return_address, &info) == 0 || info.dli_fname == nullptr) {
        return false;
    }
    return std::strcmp(info.dli_fname, PAM_KEYINIT_MODULE_PATH) == 0;
}

// Counts a call from the module; true when this one is to fail.
bool should_fail(PamCall call, const void* return_address, int* failure) {
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

const char* pam_call_name(PamCall call) {
    switch (call) {
        case PamCall::get_user: return "pam_get_user";
        case PamCall::get_data: return "pam_get_data";
        case PamCall::set_data: return "pam_set_data";
        case PamCall::getpwnam: return "pam_modutil_getpwnam";
    }
    return "?";
}

void fail_pam_call(PamCall call, int failure, int nth) {
    armed[index_of(call)] = {true, failure, nth};
}

int module_calls(PamCall call) {
    return calls[index_of(call)];
}

}  // namespace pam_keyinit::test

using pam_keyinit::test::PamCall;
using pam_keyinit::test::real;
using pam_keyinit::test::should_fail;

#define PAM_KEYINIT_INTERPOSE extern "C" __attribute__((visibility("default"), noinline))

PAM_KEYINIT_INTERPOSE int pam_get_user(pam_handle_t* pamh, const char** user, const char* prompt) {
    int failure = 0;
    if (should_fail(PamCall::get_user, __builtin_return_address(0), &failure)) {
        return failure;
    }
    using Function = int (*)(pam_handle_t*, const char**, const char*);
    return real<Function>("pam_get_user")(pamh, user, prompt);
}

PAM_KEYINIT_INTERPOSE int pam_get_data(const pam_handle_t* pamh, const char* name,
                                       const void** data) {
    int failure = 0;
    if (should_fail(PamCall::get_data, __builtin_return_address(0), &failure)) {
        return failure;
    }
    using Function = int (*)(const pam_handle_t*, const char*, const void**);
    return real<Function>("pam_get_data")(pamh, name, data);
}

PAM_KEYINIT_INTERPOSE int pam_set_data(pam_handle_t* pamh, const char* name, void* data,
                                       void (*cleanup)(pam_handle_t*, void*, int)) {
    int failure = 0;
    if (should_fail(PamCall::set_data, __builtin_return_address(0), &failure)) {
        return failure;
    }
    using Function = int (*)(pam_handle_t*, const char*, void*, void (*)(pam_handle_t*, void*, int));
    return real<Function>("pam_set_data")(pamh, name, data, cleanup);
}

PAM_KEYINIT_INTERPOSE struct passwd* pam_modutil_getpwnam(pam_handle_t* pamh, const char* user) {
    int failure = 0;
    if (should_fail(PamCall::getpwnam, __builtin_return_address(0), &failure)) {
        errno = failure;
        return nullptr;
    }
    using Function = struct passwd* (*)(pam_handle_t*, const char*);
    return real<Function>("pam_modutil_getpwnam")(pamh, user);
}
