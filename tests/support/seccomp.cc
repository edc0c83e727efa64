#include "seccomp.h"

#include <seccomp.h>

namespace pam_keyinit::test {
namespace {

bool load(int error, bool any_operation, int operation) {
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    if (filter == nullptr) {
        return false;
    }
    int status = any_operation
                     ? seccomp_rule_add(filter, SCMP_ACT_ERRNO(static_cast<unsigned>(error)),
                                        SCMP_SYS(keyctl), 0)
                     : seccomp_rule_add(filter, SCMP_ACT_ERRNO(static_cast<unsigned>(error)),
                                        SCMP_SYS(keyctl), 1,
                                        SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(operation)));
    if (status == 0) {
        status = seccomp_load(filter);
    }
    seccomp_release(filter);
    return status == 0;
}

}  // namespace

bool fail_every_keyctl(int error) {
    return load(error, true, 0);
}

bool fail_keyctl_operation(int operation, int error) {
    return load(error, false, operation);
}

}  // namespace pam_keyinit::test
