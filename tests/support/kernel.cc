// SPDX-License-Identifier: BSD-3-Clause
#include "kernel.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "pam_keyinit/key_description.h"
#include "pam_keyinit/thread_ids.h"

namespace pam_keyinit {

std::ostream& operator<<(std::ostream& out, const ThreadIds& ids) {
    return out << "uid " << ids.ruid << '/' << ids.euid << '/' << ids.suid << '/' << ids.fsuid
               << " gid " << ids.rgid << '/' << ids.egid << '/' << ids.sgid << '/' << ids.fsgid;
}

}  // namespace pam_keyinit

namespace pam_keyinit::test {

std::optional<Key> describe(key_serial_t id) {
    char buffer[4200];
    const long length = keyctl_describe(id, buffer, sizeof buffer);
    if (length < 0) {
        return std::nullopt;
    }
    const auto parsed =
        parse_key_description(std::string_view(buffer, static_cast<size_t>(length)));
    if (!parsed) {
        errno = EINVAL;
        return std::nullopt;
    }
    return Key{id, std::string(parsed->type), parsed->uid, parsed->gid, std::string(parsed->name)};
}

int describe_error(key_serial_t id) {
    char buffer[4200];
    return keyctl_describe(id, buffer, sizeof buffer) < 0 ? errno : 0;
}

void keep_reference(key_serial_t key) {
    ASSERT_EQ(keyctl_link(key, KEY_SPEC_PROCESS_KEYRING), 0)
        << "linking key " << key << " into the process keyring: " << std::strerror(errno);
}

std::vector<key_serial_t> contents(key_serial_t keyring) {
    key_serial_t ids[512];
    const long length = keyctl_read(keyring, reinterpret_cast<char*>(ids), sizeof ids);
    if (length < 0) {
        return {};
    }
    const auto count = std::min(static_cast<size_t>(length), sizeof ids) / sizeof(key_serial_t);
    return std::vector<key_serial_t>(ids, ids + count);
}

std::optional<Key> find_linked(key_serial_t ring, const std::string& name) {
    for (key_serial_t id : contents(ring)) {
        if (auto key = describe(id); key && key->name == name) {
            return key;
        }
    }
    return std::nullopt;
}

key_serial_t session_keyring() {
    return keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0);
}

ThreadIds thread_ids() {
    ThreadIds ids{};
    getresuid(&ids.ruid, &ids.euid, &ids.suid);
    getresgid(&ids.rgid, &ids.egid, &ids.sgid);
    ids.fsuid =
        static_cast<uid_t>(syscall(pam_keyinit::thread_ids::setfsuid_call, static_cast<uid_t>(-1)));
    ids.fsgid =
        static_cast<gid_t>(syscall(pam_keyinit::thread_ids::setfsgid_call, static_cast<gid_t>(-1)));
    return ids;
}

void set_thread_real_ids(uid_t uid, gid_t gid) {
    ASSERT_EQ(syscall(pam_keyinit::thread_ids::setresgid_call, gid, -1, -1), 0)
        << std::strerror(errno);
    ASSERT_EQ(syscall(pam_keyinit::thread_ids::setresuid_call, uid, -1, -1), 0)
        << std::strerror(errno);
}

void set_thread_ids(const ThreadIds& ids) {
    ASSERT_EQ(syscall(pam_keyinit::thread_ids::setresgid_call, ids.rgid, ids.egid, ids.sgid), 0)
        << std::strerror(errno);
    ASSERT_EQ(syscall(pam_keyinit::thread_ids::setresuid_call, ids.ruid, ids.euid, ids.suid), 0)
        << std::strerror(errno);
    // setresuid() and setresgid() made the filesystem IDs the effective ones.
    syscall(pam_keyinit::thread_ids::setfsuid_call, ids.fsuid);
    syscall(pam_keyinit::thread_ids::setfsgid_call, ids.fsgid);
}

KeyQuota key_quota(uid_t uid) {
    // "  1000:     5 5/5 5/200 73/20000": uid, usage, nkeys/nikeys,
    // qnkeys/maxkeys, qnbytes/maxbytes.
    std::ifstream users("/proc/key-users");
    std::string line;
    while (std::getline(users, line)) {
        std::istringstream fields(line);
        std::string owner, usage, counts, quota;
        fields >> owner >> usage >> counts >> quota;
        if (owner == std::to_string(uid) + ":") {
            KeyQuota found;
            std::sscanf(quota.c_str(), "%u/%u", &found.keys, &found.max_keys);
            return found;
        }
    }
    return {};
}

TestUser ensure_user(const std::string& name) {
    const auto lookup = [&]() -> std::optional<TestUser> {
        if (const passwd* entry = getpwnam(name.c_str())) {
            return TestUser{name, entry->pw_uid, entry->pw_gid};
        }
        return std::nullopt;
    };
    if (auto user = lookup()) {
        return *user;
    }
    const int lock = open("/run/lock/pam-keyinit-tests.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (lock >= 0) {
        flock(lock, LOCK_EX);
    }
    if (!lookup()) {
        const std::string command =
            "useradd --no-create-home --shell /usr/sbin/nologin --comment 'pam-keyinit tests' " +
            name;
        const int status = std::system(command.c_str());
        EXPECT_EQ(status, 0) << command;
    }
    if (lock >= 0) {
        close(lock);
    }
    const auto user = lookup();
    if (!user) {
        ADD_FAILURE() << "cannot create test user " << name;
        return TestUser{name, 65534, 65534};
    }
    return *user;
}

}  // namespace pam_keyinit::test
