// SPDX-License-Identifier: BSD-3-Clause
// Parsing of keyctl_describe() output: "type;uid;gid;perm;description".
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string_view>

namespace pam_keyinit {

struct KeyDescription {
    std::string_view type;
    uid_t uid = 0;
    gid_t gid = 0;
    std::uint32_t permissions = 0;
    std::string_view name;  // may itself contain ';'
};

// Views into text; empty when the text is not in the kernel's format.
std::optional<KeyDescription> parse_key_description(std::string_view text) noexcept;

}  // namespace pam_keyinit
