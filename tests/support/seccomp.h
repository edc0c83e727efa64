// Seccomp filters that make keyctl() fail the way containers and old
// kernels do, for the real module in a real stack. Irreversible: children only.
#pragma once

namespace pam_keyinit::test {

// Every keyctl() fails with error (EPERM: Docker, systemd-nspawn; ENOSYS: a
// kernel without keys). Returns false if the filter could not be loaded.
bool fail_every_keyctl(int error);
// Only keyctl(operation, ...) fails with error.
bool fail_keyctl_operation(int operation, int error);

}  // namespace pam_keyinit::test
