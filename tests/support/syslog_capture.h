// SPDX-License-Identifier: BSD-3-Clause
// Catches what the process sends to syslog, so tests can assert a module's
// log lines. For a child process only: it gives the process a private mount
// namespace with a fresh /dev whose /dev/log is a socket read here.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pam_keyinit::test {

struct LogLine {
    int priority;      // LOG_ERR, LOG_DEBUG, ...
    std::string text;  // the message after "tag[pid]: "

    bool contains(const std::string& needle) const {
        return text.find(needle) != std::string::npos;
    }
};

class SyslogCapture {
public:
    // Needs root (CAP_SYS_ADMIN and CAP_MKNOD); the reason goes to *error.
    static std::optional<SyslogCapture> start(std::string* error);

    SyslogCapture(SyslogCapture&& other) noexcept : socket_(other.socket_) { other.socket_ = -1; }
    SyslogCapture& operator=(SyslogCapture&&) = delete;
    ~SyslogCapture();

    // Everything logged since the last call. A sender blocks once about
    // 200 KiB of lines wait here (its socket's send buffer), so a loop that
    // logs a lot must take() as it goes.
    std::vector<LogLine> take();

private:
    explicit SyslogCapture(int socket) : socket_(socket) {}
    int socket_;
};

// The lines that contain needle.
std::vector<LogLine> matching(const std::vector<LogLine>& lines, const std::string& needle);
std::string to_string(const std::vector<LogLine>& lines);

}  // namespace pam_keyinit::test
