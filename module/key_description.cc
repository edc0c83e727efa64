// SPDX-License-Identifier: BSD-3-Clause
#include "pam_keyinit/key_description.h"

#include <charconv>
#include <cstdint>
#include <limits>

namespace pam_keyinit {
namespace {

// Splits off the text up to the next ';' and advances past it.
std::optional<std::string_view> next_field(std::string_view& rest) noexcept {
    const std::size_t end = rest.find(';');
    if (end == std::string_view::npos) {
        return std::nullopt;
    }
    const std::string_view field = rest.substr(0, end);
    rest.remove_prefix(end + 1);
    return field;
}

template <typename Number>
std::optional<Number> parse_number(std::string_view text, int base) noexcept {
    // Plain digits only: reject signs, blanks and trailing junk that
    // from_chars alone would let through.
    if (text.empty() || text.front() == '-') {
        return std::nullopt;
    }
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
    if (error != std::errc{} || end != text.data() + text.size() ||
        value > std::numeric_limits<Number>::max()) {
        return std::nullopt;
    }
    return static_cast<Number>(value);
}

// The kernel prints a key's UID and GID with "%d": an ID of 2^31 or more
// (UID 4000000000, say) comes out negative, as -294967296. Both forms are
// read as the 32-bit ID they stand for.
template <typename Id>
std::optional<Id> parse_id(std::string_view text) noexcept {
    static_assert(sizeof(Id) == sizeof(std::uint32_t));
    if (!text.starts_with('-')) {
        return parse_number<Id>(text, 10);
    }
    text.remove_prefix(1);
    const auto magnitude = parse_number<std::uint32_t>(text, 10);
    constexpr std::uint32_t most_negative = std::uint32_t{1} << 31;
    if (!magnitude || *magnitude == 0 || *magnitude > most_negative) {
        return std::nullopt;
    }
    return static_cast<Id>(std::uint32_t{0} - *magnitude);
}

}  // namespace

std::optional<KeyDescription> parse_key_description(std::string_view text) noexcept {
    // keyctl_describe() counts the terminating NUL in its length.
    while (!text.empty() && text.back() == '\0') {
        text.remove_suffix(1);
    }
    std::string_view rest = text;
    const auto type = next_field(rest);
    const auto uid = type ? next_field(rest) : std::nullopt;
    const auto gid = uid ? next_field(rest) : std::nullopt;
    const auto permissions = gid ? next_field(rest) : std::nullopt;
    if (!permissions || type->empty()) {
        return std::nullopt;
    }
    const auto uid_value = parse_id<uid_t>(*uid);
    const auto gid_value = parse_id<gid_t>(*gid);
    const auto permission_bits = parse_number<std::uint32_t>(*permissions, 16);
    if (!uid_value || !gid_value || !permission_bits) {
        return std::nullopt;
    }
    return KeyDescription{*type, *uid_value, *gid_value, *permission_bits, rest};
}

}  // namespace pam_keyinit
