// Seccomp filters that make one system call of the shipped module fail,
// told apart by its arguments. Irreversible: for forked children only.
#pragma once

#include <cstdint>
#include <optional>

namespace pam_keyinit::test {

// keyctl(operation, first, ...) fails with error; any first argument when
// first is empty. Arguments compare on their low 32 bits (key serials are
// ints).
bool fail_keyctl(int operation, std::optional<std::int32_t> first, int error);

// syscall(number, first, second, ...) fails with error; an empty argument
// matches anything.
bool fail_syscall(long number, std::optional<std::uint32_t> first,
                  std::optional<std::uint32_t> second, int error);

}  // namespace pam_keyinit::test
