// SPDX-License-Identifier: BSD-3-Clause
#include "fake_system.h"

#include <keyutils.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pam_keyinit::test {
namespace {

bool may_set(uid_t wanted, uid_t r, uid_t e, uid_t s) {
    return wanted == static_cast<uid_t>(-1) || wanted == r || wanted == e || wanted == s;
}

FakeSystem& fake(void* context) {
    return *static_cast<FakeSystem*>(context);
}

}  // namespace

// vlog passes the module's own format on, as pam_vsyslog() does.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
const SystemCalls FakeSystem::calls_table = {
    .get_user = [](void* context, pam_handle_t*,
                   const char** name) { return fake(context).get_user(name); },
    .lookup_user = [](void* context, pam_handle_t*, const char* name,
                      UserIds* found) { return fake(context).lookup_user(name, found); },
    .get_data = [](void* context, const pam_handle_t* pamh, const char* name,
                   const void** data) { return fake(context).get_data(pamh, name, data); },
    .set_data =
        [](void* context, pam_handle_t* pamh, const char* name, void* data,
           void (*cleanup)(pam_handle_t*, void*, int)) {
            return fake(context).set_data(pamh, name, data, cleanup);
        },
    .vlog =
        [](void* context, const pam_handle_t*, int priority, const char* format, va_list args) {
            char text[2048];
            std::vsnprintf(text, sizeof text, format, args);
            fake(context).log.push_back({priority, text});
        },
    .allocate = [](void* context, size_t size) { return fake(context).allocate(size); },
    .get_thread_ids = [](void* context, ThreadIds* out) { return fake(context).get_ids(out); },
    .set_thread_uids = [](void* context, uid_t r, uid_t e,
                          uid_t s) { return fake(context).set_uids(r, e, s); },
    .set_thread_gids = [](void* context, gid_t r, gid_t e,
                          gid_t s) { return fake(context).set_gids(r, e, s); },
    .set_thread_fsuid = [](void* context, uid_t fsuid) { return fake(context).set_fsuid(fsuid); },
    .set_thread_fsgid = [](void* context, gid_t fsgid) { return fake(context).set_fsgid(fsgid); },
    .keyring_id = [](void* context,
                     KeySerial special) { return fake(context).keyring_id(special); },
    .describe_key = [](void* context, KeySerial key, char* buffer,
                       size_t size) { return fake(context).describe(key, buffer, size); },
    .join_new_session_keyring = [](void* context) { return fake(context).join(); },
    .link_key = [](void* context, KeySerial key,
                   KeySerial keyring) { return fake(context).link(key, keyring); },
    .revoke_key = [](void* context, KeySerial key) { return fake(context).revoke(key); },
    .link_persistent_keyring =
        [](void* context, KeySerial keyring) { return fake(context).link_persistent(keyring); },
};

#pragma GCC diagnostic pop

FakeSystem::FakeSystem() : system_{&calls_table, this} {}

FakeSystem::~FakeSystem() {
    for (auto& [key, datum] : data_) {
        if (datum.cleanup != nullptr) {
            datum.cleanup(reinterpret_cast<pam_handle_t*>(const_cast<void*>(key.first)), datum.data,
                          PAM_SUCCESS);
        }
    }
}

int FakeSystem::injected(Step step) {
    calls.push_back(step);
    const int count = ++counts_[step];
    for (const Failure& failure : failures_) {
        if (failure.step == step && (failure.nth == 0 || failure.nth == count)) {
            fired.push_back({step, failure.error});
            return failure.error;
        }
    }
    return 0;
}

KeySerial FakeSystem::add_keyring(uid_t owner, const std::string& name) {
    const KeySerial id = next_id_++;
    keys[id] = FakeKey{id, owner, name, false, {}, std::nullopt};
    return id;
}

KeySerial FakeSystem::user_session_keyring(uid_t uid) {
    auto& id = user_session_of[uid];
    if (id == 0) {
        id = add_keyring(uid, "_uid_ses." + std::to_string(uid));
    }
    return id;
}

KeySerial FakeSystem::user_keyring(uid_t uid) {
    auto& id = user_keyring_of[uid];
    if (id == 0) {
        id = add_keyring(uid, "_uid." + std::to_string(uid));
    }
    return id;
}

std::vector<LoggedLine> FakeSystem::lines_at(int priority) const {
    std::vector<LoggedLine> found;
    for (const auto& line : log) {
        if (line.priority == priority) {
            found.push_back(line);
        }
    }
    return found;
}

std::string FakeSystem::log_text() const {
    std::string text;
    for (const auto& line : log) {
        // Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict) on the
        // temporaries of a chain of operator+.
        text += '<';
        text += std::to_string(line.priority);
        text += "> ";
        text += line.text;
        text += '\n';
    }
    return text;
}

size_t FakeSystem::count(Step step) const {
    const auto found = counts_.find(step);
    return found == counts_.end() ? 0 : static_cast<size_t>(found->second);
}

HandleState* FakeSystem::state(int handle) {
    const auto found = data_.find({pamh(handle), handle_state_name});
    return found == data_.end() ? nullptr : static_cast<HandleState*>(found->second.data);
}

int FakeSystem::get_user(const char** name) {
    if (int status = injected(Step::get_user)) {
        return status;
    }
    if (get_user_status != PAM_SUCCESS) {
        return get_user_status;
    }
    user_storage_ = user;
    *name = user_storage_.c_str();
    return PAM_SUCCESS;
}

int FakeSystem::lookup_user(const char* name, UserIds* out) {
    if (int error = injected(Step::lookup_user)) {
        return -error;
    }
    const auto found = passwd.find(name);
    if (found == passwd.end()) {
        return -ENOENT;
    }
    *out = found->second;
    return 0;
}

int FakeSystem::get_data(const pam_handle_t* pamh, const char* name, const void** data) {
    if (int status = injected(Step::get_data)) {
        return status;
    }
    const auto found = data_.find({pamh, name});
    if (found == data_.end()) {
        return PAM_NO_MODULE_DATA;
    }
    *data = found->second.data;
    return PAM_SUCCESS;
}

int FakeSystem::set_data(pam_handle_t* pamh, const char* name, void* data,
                         void (*cleanup)(pam_handle_t*, void*, int)) {
    if (int status = injected(Step::set_data)) {
        return status;
    }
    auto found = data_.find({pamh, name});
    if (found != data_.end() && found->second.cleanup != nullptr) {
        found->second.cleanup(pamh, found->second.data, PAM_SUCCESS);
    }
    data_[{pamh, name}] = {data, cleanup};
    return PAM_SUCCESS;
}

void* FakeSystem::allocate(size_t size) {
    if (injected(Step::allocate) != 0) {
        return nullptr;
    }
    return std::calloc(1, size);
}

int FakeSystem::get_ids(ThreadIds* out) {
    if (int error = injected(Step::read_ids)) {
        return -error;
    }
    *out = ids;
    return 0;
}

// setresuid(2): an unprivileged thread may only pick among its current IDs.
// The module switches with (uid, -1, -1) and restores with all three IDs.
int FakeSystem::set_uids(uid_t r, uid_t e, uid_t s) {
    const bool switching = e == static_cast<uid_t>(-1);
    if (int error = injected(switching ? Step::switch_uids : Step::restore_uids)) {
        return -error;
    }
    if (ids.euid != 0 &&
        !(may_set(r, ids.ruid, ids.euid, ids.suid) && may_set(e, ids.ruid, ids.euid, ids.suid) &&
          may_set(s, ids.ruid, ids.euid, ids.suid))) {
        return -EPERM;
    }
    const uid_t unchanged = static_cast<uid_t>(-1);
    if (r != unchanged)
        ids.ruid = r;
    if (e != unchanged)
        ids.euid = e;
    if (s != unchanged)
        ids.suid = s;
    ids.fsuid = ids.euid;  // as the kernel does on every setresuid()
    return 0;
}

int FakeSystem::set_gids(gid_t r, gid_t e, gid_t s) {
    const bool switching = e == static_cast<gid_t>(-1);
    if (int error = injected(switching ? Step::switch_gids : Step::restore_gids)) {
        return -error;
    }
    if (ids.euid != 0 &&
        !(may_set(r, ids.rgid, ids.egid, ids.sgid) && may_set(e, ids.rgid, ids.egid, ids.sgid) &&
          may_set(s, ids.rgid, ids.egid, ids.sgid))) {
        return -EPERM;
    }
    const gid_t unchanged = static_cast<gid_t>(-1);
    if (r != unchanged)
        ids.rgid = r;
    if (e != unchanged)
        ids.egid = e;
    if (s != unchanged)
        ids.sgid = s;
    ids.fsgid = ids.egid;
    return 0;
}

// setfsuid(2): root may pick any ID, anyone else one of its own.
int FakeSystem::set_fsuid(uid_t fsuid) {
    if (int error = injected(Step::restore_fsids)) {
        return -error;
    }
    if (ids.euid != 0 && fsuid != ids.ruid && fsuid != ids.euid && fsuid != ids.suid &&
        fsuid != ids.fsuid) {
        return -EPERM;
    }
    ids.fsuid = fsuid;
    return 0;
}

int FakeSystem::set_fsgid(gid_t fsgid) {
    if (int error = injected(Step::restore_fsids)) {
        return -error;
    }
    if (ids.euid != 0 && fsgid != ids.rgid && fsgid != ids.egid && fsgid != ids.sgid &&
        fsgid != ids.fsgid) {
        return -EPERM;
    }
    ids.fsgid = fsgid;
    return 0;
}

// Keyring lookups resolve against the thread's real UID, as the kernel does.
long FakeSystem::keyring_id(KeySerial special) {
    ids_at_keyctl.push_back(ids);
    if (special == KEY_SPEC_SESSION_KEYRING || special == KEY_SPEC_USER_SESSION_KEYRING) {
        const Step step =
            special == KEY_SPEC_SESSION_KEYRING ? Step::session_lookup : Step::user_session_lookup;
        if (int error = injected(step)) {
            return -error;
        }
    }
    switch (special) {
        case KEY_SPEC_SESSION_KEYRING:
            if (session_revoked) {
                return -EKEYREVOKED;
            }
            if (session_expired) {
                return -EKEYEXPIRED;
            }
            if (session == 0) {
                session = user_session_keyring(ids.ruid);
            }
            return session;
        case KEY_SPEC_USER_SESSION_KEYRING: return user_session_keyring(ids.ruid);
        case KEY_SPEC_USER_KEYRING: return user_keyring(ids.ruid);
        default: return -EINVAL;
    }
}

long FakeSystem::describe(KeySerial key, char* buffer, size_t size) {
    ids_at_keyctl.push_back(ids);
    if (int error = injected(Step::describe)) {
        return -error;
    }
    const auto found = keys.find(key);
    if (found == keys.end()) {
        return -ENOKEY;
    }
    // The kernel's text, with its NUL; what fits when the buffer is short.
    std::string text;
    if (found->second.description) {
        text = *found->second.description;
    } else {
        char made_up[512];
        std::snprintf(made_up, sizeof made_up, "keyring;%u;%u;3f130000;%s", found->second.owner,
                      found->second.owner, found->second.name.c_str());
        text = made_up;
    }
    text.push_back('\0');
    if (buffer != nullptr && size > 0) {
        std::memcpy(buffer, text.data(), std::min(size, text.size()));
    }
    return static_cast<long>(text.size());
}

long FakeSystem::join() {
    ids_at_keyctl.push_back(ids);
    if (int error = injected(Step::join)) {
        return -error;
    }
    session = add_keyring(ids.ruid, "_ses");
    joined.push_back(session);
    session_revoked = false;
    session_expired = false;
    return session;
}

long FakeSystem::link(KeySerial key, KeySerial keyring) {
    ids_at_keyctl.push_back(ids);
    if (int error = injected(Step::link)) {
        return -error;
    }
    if (key != KEY_SPEC_USER_KEYRING && key <= 0) {
        return -EINVAL;
    }
    const KeySerial resolved = key == KEY_SPEC_USER_KEYRING ? user_keyring(ids.ruid) : key;
    auto found = keys.find(keyring);
    if (found == keys.end()) {
        return -ENOKEY;
    }
    found->second.links.push_back(resolved);
    return 0;
}

long FakeSystem::revoke(KeySerial key) {
    ids_at_keyctl.push_back(ids);
    revoke_attempts.push_back(key);
    if (int error = injected(Step::revoke)) {
        return -error;
    }
    auto found = keys.find(key);
    if (found == keys.end()) {
        return -ENOKEY;
    }
    if (found->second.revoked) {
        return -EKEYREVOKED;
    }
    found->second.revoked = true;
    revoked.push_back(key);
    if (key == session) {
        session_revoked = true;
    }
    return 0;
}

long FakeSystem::link_persistent(KeySerial keyring) {
    ids_at_keyctl.push_back(ids);
    if (int error = injected(Step::link_persistent)) {
        return -error;
    }
    const KeySerial persistent = add_keyring(ids.ruid, "_persistent." + std::to_string(ids.ruid));
    keys[keyring].links.push_back(persistent);
    return persistent;
}

}  // namespace pam_keyinit::test
