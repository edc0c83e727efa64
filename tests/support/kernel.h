// SPDX-License-Identifier: BSD-3-Clause
// Reading the real kernel's keyrings and the calling thread's credentials.
#pragma once

#include <keyutils.h>
#include <sys/types.h>

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "pam_keyinit/system.h"

namespace pam_keyinit {
// For test messages: "uid 0/0/0 gid 0/0/0".
std::ostream& operator<<(std::ostream& out, const ThreadIds& ids);
}  // namespace pam_keyinit

namespace pam_keyinit::test {

struct Key {
    key_serial_t id = 0;
    std::string type;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
};

// The key as keyctl_describe() shows it; empty (errno set) when revoked or gone.
std::optional<Key> describe(key_serial_t id);
// The errno keyctl_describe() fails with, or 0.
int describe_error(key_serial_t id);
// Links key into the process keyring, so that it stays readable after the
// thread leaves it: a key nothing refers to any more is destroyed by the
// kernel's garbage collector, whenever that runs, and from then on reads
// ENOKEY instead of, say, EKEYREVOKED. A failure to link fails the test.
void keep_reference(key_serial_t key);
// The IDs linked in a keyring (empty when it cannot be read).
std::vector<key_serial_t> contents(key_serial_t keyring);
// A keyring in ring named name, if any.
std::optional<Key> find_linked(key_serial_t ring, const std::string& name);
// The thread's session keyring (installs the user-session keyring of the
// real UID if there is none, as the kernel does on any lookup).
key_serial_t session_keyring();

ThreadIds thread_ids();
// Raw setresuid/setresgid on the calling thread only; aborts the test on error.
void set_thread_real_ids(uid_t uid, gid_t gid);
void set_thread_ids(const ThreadIds& ids);

// A user's share of the key quota, from /proc/key-users: the keys charged
// to it (qnkeys) and its limit (maxkeys). Zeros when the user has no line.
struct KeyQuota {
    unsigned keys = 0;
    unsigned max_keys = 0;
};
KeyQuota key_quota(uid_t uid);

struct TestUser {
    std::string name;
    uid_t uid;
    gid_t gid;
};

// A real user in /etc/passwd, made with useradd when missing (serialised
// with other test processes by a lock file). Needs root.
TestUser ensure_user(const std::string& name);

}  // namespace pam_keyinit::test
