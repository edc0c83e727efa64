// SPDX-License-Identifier: BSD-3-Clause
#include "pam_stack.h"

namespace pam_keyinit::test {
namespace {

// Nothing in these stacks should ask anything: refuse any prompt.
int refuse_conversation(int, const pam_message**, pam_response** response, void*) {
    *response = nullptr;
    return PAM_CONV_ERR;
}

const pam_conv conversation = {refuse_conversation, nullptr};

}  // namespace

const char* name(Module module) {
    return module == Module::ours ? "ours" : "stock";
}

std::string service(Module module, const std::string& base) {
    return std::string(name(module)) + "-" + base;
}

PamTransaction::PamTransaction(const std::string& service, const std::string& user)
    : start_status_(pam_start_confdir(service.c_str(), user.c_str(), &conversation,
                                      PAM_KEYINIT_TEST_CONFDIR, &handle_)) {}

PamTransaction::~PamTransaction() {
    if (handle_ != nullptr) {
        pam_end(handle_, PAM_SUCCESS);
    }
}

}  // namespace pam_keyinit::test
