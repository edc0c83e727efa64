// SPDX-License-Identifier: BSD-3-Clause
// A real libpam transaction on a service file generated at build time.
#pragma once

#include <security/pam_appl.h>

#include <string>

namespace pam_keyinit::test {

// Which module a generated service names: the one just built, or Debian's.
enum class Module { ours, stock };
const char* name(Module module);

// The service "<ours|stock>-<base>" in the test configuration folder.
std::string service(Module module, const std::string& base);

class PamTransaction {
public:
    PamTransaction(const std::string& service, const std::string& user);
    ~PamTransaction();
    PamTransaction(const PamTransaction&) = delete;
    PamTransaction& operator=(const PamTransaction&) = delete;

    int started() const { return start_status_; }
    // Without a handle (pam_start failed) each call reports PAM_SYSTEM_ERR.
    int open_session() { return handle_ ? pam_open_session(handle_, 0) : PAM_SYSTEM_ERR; }
    int close_session() { return handle_ ? pam_close_session(handle_, 0) : PAM_SYSTEM_ERR; }
    int setcred(int flags) { return handle_ ? pam_setcred(handle_, flags) : PAM_SYSTEM_ERR; }
    // What an application (or an attacker driving one) may do between calls.
    int set_user(const std::string& user) {
        return handle_ ? pam_set_item(handle_, PAM_USER, user.c_str()) : PAM_SYSTEM_ERR;
    }

private:
    pam_handle_t* handle_ = nullptr;
    int start_status_;
};

}  // namespace pam_keyinit::test
