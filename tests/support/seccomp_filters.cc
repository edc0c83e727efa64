// SPDX-License-Identifier: BSD-3-Clause
#include "seccomp_filters.h"

#include <seccomp.h>
#include <sys/syscall.h>

#include <vector>

namespace pam_keyinit::test {
namespace {

constexpr scmp_datum_t low_32_bits = 0xffffffffu;

scmp_arg_cmp low_bits_equal(unsigned argument, std::uint32_t value) {
    return scmp_arg_cmp{argument, SCMP_CMP_MASKED_EQ, low_32_bits, value};
}

bool load(long number, const std::vector<scmp_arg_cmp>& conditions, int error) {
    scmp_filter_ctx filter = seccomp_init(SCMP_ACT_ALLOW);
    if (filter == nullptr) {
        return false;
    }
    int status = seccomp_rule_add_array(
        filter, SCMP_ACT_ERRNO(static_cast<unsigned>(error)), static_cast<int>(number),
        static_cast<unsigned>(conditions.size()), conditions.data());
    if (status == 0) {
        status = seccomp_load(filter);
    }
    seccomp_release(filter);
    return status == 0;
}

}  // namespace

bool fail_every_keyctl(int error) {
    return load(SYS_keyctl, {}, error);
}

bool fail_keyctl(int operation, std::optional<std::int32_t> first, int error) {
    std::vector<scmp_arg_cmp> conditions{
        scmp_arg_cmp{0, SCMP_CMP_EQ, static_cast<scmp_datum_t>(operation), 0}};
    if (first) {
        conditions.push_back(low_bits_equal(1, static_cast<std::uint32_t>(*first)));
    }
    return load(SYS_keyctl, conditions, error);
}

bool fail_syscall(long number, std::optional<std::uint32_t> first,
                  std::optional<std::uint32_t> second, int error) {
    std::vector<scmp_arg_cmp> conditions;
    if (first) {
        conditions.push_back(low_bits_equal(0, *first));
    }
    if (second) {
        conditions.push_back(low_bits_equal(1, *second));
    }
    return load(number, conditions, error);
}

}  // namespace pam_keyinit::test
