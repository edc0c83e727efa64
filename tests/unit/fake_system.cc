#include "fake_system.h"

#include <keyutils.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pam_keyinit::test {
namespace {

FakeSystem* current = nullptr;

bool may_set(uid_t wanted, uid_t r, uid_t e, uid_t s) {
    return wanted == static_cast<uid_t>(-1) || wanted == r || wanted == e || wanted == s;
}

}  // namespace

const char* call_name(Call call) {
    switch (call) {
        case Call::get_user: return "get_user";
        case Call::lookup_user: return "lookup_user";
        case Call::get_data: return "get_data";
        case Call::set_data: return "set_data";
        case Call::allocate: return "allocate";
        case Call::get_thread_ids: return "get_thread_ids";
        case Call::set_thread_uids: return "set_thread_uids";
        case Call::set_thread_gids: return "set_thread_gids";
        case Call::keyring_id: return "keyring_id";
        case Call::describe_key: return "describe_key";
        case Call::join: return "join";
        case Call::link: return "link";
        case Call::revoke: return "revoke";
        case Call::link_persistent: return "link_persistent";
    }
    return "?";
}

FakeSystem::FakeSystem() {
    current = this;
    table_ = System{
        .get_user = [](pam_handle_t*, const char** name) { return current->get_user_impl(name); },
        .lookup_user = [](pam_handle_t*, const char* name, UserIds* found) {
            return current->lookup_user_impl(name, found);
        },
        .get_data = [](const pam_handle_t*, const char* name, const void** data) {
            return current->get_data_impl(name, data);
        },
        .set_data = [](pam_handle_t*, const char* name, void* data,
                       void (*cleanup)(pam_handle_t*, void*, int)) {
            return current->set_data_impl(name, data, cleanup);
        },
        .vlog = [](const pam_handle_t*, int priority, const char* format, va_list args) {
            char text[2048];
            std::vsnprintf(text, sizeof text, format, args);
            current->log.push_back({priority, text});
        },
        .allocate = [](size_t size) { return current->allocate_impl(size); },
        .get_thread_ids = [](ThreadIds* out) { return current->get_ids_impl(out); },
        .set_thread_uids = [](uid_t r, uid_t e, uid_t s) { return current->set_uids_impl(r, e, s); },
        .set_thread_gids = [](gid_t r, gid_t e, gid_t s) { return current->set_gids_impl(r, e, s); },
        .keyring_id = [](KeySerial special) { return current->keyring_id_impl(special); },
        .describe_key = [](KeySerial key, char* buffer, size_t size) {
            return current->describe_impl(key, buffer, size);
        },
        .join_new_session_keyring = [] { return current->join_impl(); },
        .link_key = [](KeySerial key, KeySerial keyring) { return current->link_impl(key, keyring); },
        .revoke_key = [](KeySerial key) { return current->revoke_impl(key); },
        .link_persistent_keyring = [](KeySerial keyring) {
            return current->link_persistent_impl(keyring);
        },
    };
}

FakeSystem::~FakeSystem() {
    for (auto& [name, datum] : data_) {
        if (datum.cleanup != nullptr) {
            datum.cleanup(pamh(), datum.data, PAM_SUCCESS);
        }
    }
    current = nullptr;
}

int FakeSystem::injected(Call call) {
    calls.push_back(call);
    const int count = ++counts_[call];
    const auto failure = failures_.find(call);
    if (failure == failures_.end()) {
        return 0;
    }
    if (failure->second.nth == 0 || failure->second.nth == count) {
        return failure->second.error;
    }
    return 0;
}

KeySerial FakeSystem::add_keyring(uid_t owner, const std::string& name) {
    const KeySerial id = next_id_++;
    keys[id] = FakeKey{id, owner, name, false, {}};
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
        text += "<" + std::to_string(line.priority) + "> " + line.text + "\n";
    }
    return text;
}

size_t FakeSystem::count(Call call) const {
    const auto found = counts_.find(call);
    return found == counts_.end() ? 0 : static_cast<size_t>(found->second);
}

HandleState* FakeSystem::state() {
    const auto found = data_.find(handle_state_name);
    return found == data_.end() ? nullptr : static_cast<HandleState*>(found->second.data);
}

int FakeSystem::get_user_impl(const char** name) {
    if (int status = injected(Call::get_user)) {
        return status;
    }
    if (get_user_status != PAM_SUCCESS) {
        return get_user_status;
    }
    user_storage_ = user;
    *name = user_storage_.c_str();
    return PAM_SUCCESS;
}

int FakeSystem::lookup_user_impl(const char* name, UserIds* out) {
    if (int error = injected(Call::lookup_user)) {
        return -error;
    }
    const auto found = passwd.find(name);
    if (found == passwd.end()) {
        return -ENOENT;
    }
    *out = found->second;
    return 0;
}

int FakeSystem::get_data_impl(const char* name, const void** data) {
    if (int status = injected(Call::get_data)) {
        return status;
    }
    const auto found = data_.find(name);
    if (found == data_.end()) {
        return PAM_NO_MODULE_DATA;
    }
    *data = found->second.data;
    return PAM_SUCCESS;
}

int FakeSystem::set_data_impl(const char* name, void* data,
                              void (*cleanup)(pam_handle_t*, void*, int)) {
    if (int status = injected(Call::set_data)) {
        return status;
    }
    auto found = data_.find(name);
    if (found != data_.end() && found->second.cleanup != nullptr) {
        found->second.cleanup(pamh(), found->second.data, PAM_SUCCESS);
    }
    data_[name] = {data, cleanup};
    return PAM_SUCCESS;
}

void* FakeSystem::allocate_impl(size_t size) {
    if (injected(Call::allocate) != 0) {
        return nullptr;
    }
    return std::calloc(1, size);
}

int FakeSystem::get_ids_impl(ThreadIds* out) {
    if (int error = injected(Call::get_thread_ids)) {
        return -error;
    }
    *out = ids;
    return 0;
}

// setresuid(2): an unprivileged thread may only pick among its current IDs.
int FakeSystem::set_uids_impl(uid_t r, uid_t e, uid_t s) {
    if (int error = injected(Call::set_thread_uids)) {
        return -error;
    }
    if (ids.euid != 0 && !(may_set(r, ids.ruid, ids.euid, ids.suid) &&
                           may_set(e, ids.ruid, ids.euid, ids.suid) &&
                           may_set(s, ids.ruid, ids.euid, ids.suid))) {
        return -EPERM;
    }
    const uid_t unchanged = static_cast<uid_t>(-1);
    if (r != unchanged) ids.ruid = r;
    if (e != unchanged) ids.euid = e;
    if (s != unchanged) ids.suid = s;
    return 0;
}

int FakeSystem::set_gids_impl(gid_t r, gid_t e, gid_t s) {
    if (int error = injected(Call::set_thread_gids)) {
        return -error;
    }
    if (ids.euid != 0 && !(may_set(r, ids.rgid, ids.egid, ids.sgid) &&
                           may_set(e, ids.rgid, ids.egid, ids.sgid) &&
                           may_set(s, ids.rgid, ids.egid, ids.sgid))) {
        return -EPERM;
    }
    const gid_t unchanged = static_cast<gid_t>(-1);
    if (r != unchanged) ids.rgid = r;
    if (e != unchanged) ids.egid = e;
    if (s != unchanged) ids.sgid = s;
    return 0;
}

// Keyring lookups resolve against the thread's real UID, as the kernel does.
long FakeSystem::keyring_id_impl(KeySerial special) {
    ids_at_keyctl.push_back(ids);
    if (int error = injected(Call::keyring_id)) {
        return -error;
    }
    switch (special) {
        case KEY_SPEC_SESSION_KEYRING:
            if (session_revoked) {
                return -EKEYREVOKED;
            }
            if (session == 0) {
                session = user_session_keyring(ids.ruid);
            }
            return session;
        case KEY_SPEC_USER_SESSION_KEYRING:
            return user_session_keyring(ids.ruid);
        case KEY_SPEC_USER_KEYRING:
            return user_keyring(ids.ruid);
        default:
            return -EINVAL;
    }
}

long FakeSystem::describe_impl(KeySerial key, char* buffer, size_t size) {
    ids_at_keyctl.push_back(ids);
    if (int error = injected(Call::describe_key)) {
        return -error;
    }
    const auto found = keys.find(key);
    if (found == keys.end()) {
        return -ENOKEY;
    }
    char text[512];
    const int length = std::snprintf(text, sizeof text, "keyring;%u;%u;3f130000;%s",
                                     found->second.owner, found->second.owner,
                                     found->second.name.c_str()) + 1;
    if (buffer != nullptr && size >= static_cast<size_t>(length)) {
        std::memcpy(buffer, text, static_cast<size_t>(length));
    }
    return length;
}

long FakeSystem::join_impl() {
    ids_at_keyctl.push_back(ids);
    if (int error = injected(Call::join)) {
        return -error;
    }
    session = add_keyring(ids.ruid, "_ses");
    session_revoked = false;
    return session;
}

long FakeSystem::link_impl(KeySerial key, KeySerial keyring) {
    ids_at_keyctl.push_back(ids);
    if (int error = injected(Call::link)) {
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

long FakeSystem::revoke_impl(KeySerial key) {
    ids_at_keyctl.push_back(ids);
    if (int error = injected(Call::revoke)) {
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

long FakeSystem::link_persistent_impl(KeySerial keyring) {
    ids_at_keyctl.push_back(ids);
    if (int error = injected(Call::link_persistent)) {
        return -error;
    }
    const KeySerial persistent = add_keyring(ids.ruid, "_persistent." + std::to_string(ids.ruid));
    keys[keyring].links.push_back(persistent);
    return persistent;
}

}  // namespace pam_keyinit::test
