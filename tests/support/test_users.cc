// SPDX-License-Identifier: BSD-3-Clause
// The real users the stack tests log in, made with useradd (when missing)
// before the first test, as root only. In a file of their own: the
// environment that makes them is linked only into the programs that ask
// for them (alice(), bob()), so that the unit tests, which link the rest of
// the test support, never touch /etc/passwd (a package build may run them
// as root, and qemu-user runs them against a foreign root).
#include <unistd.h>

#include "stack_support.h"

namespace pam_keyinit::test {
namespace {

TestUser alice_user;
TestUser bob_user;

class UsersEnvironment : public ::testing::Environment {
public:
    void SetUp() override {
        if (geteuid() == 0) {
            alice_user = ensure_user("pkt-alice");
            bob_user = ensure_user("pkt-bob");
        }
    }
};

[[maybe_unused]] ::testing::Environment* const users_environment =
    ::testing::AddGlobalTestEnvironment(new UsersEnvironment);

}  // namespace

const TestUser& alice() {
    return alice_user;
}

const TestUser& bob() {
    return bob_user;
}

}  // namespace pam_keyinit::test
