// SPDX-License-Identifier: BSD-3-Clause
// Seccomp filters that make system calls fail: as a container's filter or a
// kernel without keys does (every keyctl), or one call of the shipped
// module, told apart by its arguments. Irreversible: for forked children
// only. Each returns false if the filter could not be loaded.
#pragma once

#include <cstdint>
#include <optional>

namespace pam_keyinit::test {

// Every keyctl() fails with error (EPERM: Docker, systemd-nspawn; ENOSYS: a
// kernel without keys).
bool fail_every_keyctl(int error);

// keyctl(operation, first, ...) fails with error; any first argument when
// first is empty. Arguments compare on their low 32 bits (key serials are
// ints).
bool fail_keyctl(int operation, std::optional<std::int32_t> first, int error);

// syscall(number, first, second, ...) fails with error; an empty argument
// matches anything.
bool fail_syscall(long number, std::optional<std::uint32_t> first,
                  std::optional<std::uint32_t> second, int error);

}  // namespace pam_keyinit::test
