// SPDX-License-Identifier: BSD-3-Clause
#include "syslog_capture.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pam_keyinit::test {
namespace {

struct DeviceNode {
    const char* path;
    unsigned major;
    unsigned minor;
};

// What a PAM stack may open under /dev (pam_exec opens /dev/null).
constexpr DeviceNode device_nodes[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

std::optional<SyslogCapture> failed(std::string* error, const char* step) {
    if (error != nullptr) {
        *error = std::string(step) + ": " + std::strerror(errno);
    }
    return std::nullopt;
}

LogLine parse(const char* data, size_t size) {
    std::string text(data, size);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) {
        text.pop_back();
    }
    LogLine line{-1, text};
    // "<PRI>Mmm dd hh:mm:ss tag[pid]: message"
    if (text.size() > 2 && text[0] == '<') {
        const size_t close = text.find('>');
        if (close != std::string::npos) {
            line.priority = LOG_PRI(std::atoi(text.c_str() + 1));
            const size_t colon = text.find(": ", close);
            line.text =
                colon != std::string::npos ? text.substr(colon + 2) : text.substr(close + 1);
        }
    }
    return line;
}

}  // namespace

std::optional<SyslogCapture> SyslogCapture::start(std::string* error) {
    // A network namespace of its own, too: a datagram socket's queue holds
    // net.unix.max_dgram_qlen messages (10 by default), and syslog() blocks
    // when it is full. Raising it there leaves the host's setting alone.
    // Where /proc/sys is read-only (inside a container) the default stays,
    // which is enough for a few lines between two take() calls.
    if (unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) {
        return failed(error, "unshare(CLONE_NEWNS | CLONE_NEWNET)");
    }
    if (FILE* qlen = std::fopen("/proc/sys/net/unix/max_dgram_qlen", "w")) {
        std::fputs("1000000", qlen);
        std::fclose(qlen);
    }
    if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
        return failed(error, "making / private");
    }
    if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755") != 0) {
        return failed(error, "mounting a tmpfs on /dev");
    }
    for (const DeviceNode& node : device_nodes) {
        if (mknod(node.path, S_IFCHR | 0666, makedev(node.major, node.minor)) != 0) {
            return failed(error, node.path);
        }
        chmod(node.path, 0666);
    }
    const int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return failed(error, "socket");
    }
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, "/dev/log");
    if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        const int saved = errno;
        close(fd);
        errno = saved;
        return failed(error, "binding /dev/log");
    }
    chmod("/dev/log", 0666);
    int buffer_size = 64 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer_size, sizeof buffer_size);
    // A connection that syslog() made before the fork would go elsewhere.
    closelog();
    return SyslogCapture(fd);
}

SyslogCapture::~SyslogCapture() {
    if (socket_ >= 0) {
        close(socket_);
    }
}

std::vector<LogLine> SyslogCapture::take() {
    std::vector<LogLine> lines;
    char buffer[8192];
    for (;;) {
        const ssize_t got = recv(socket_, buffer, sizeof buffer, MSG_DONTWAIT);
        if (got < 0) {
            break;
        }
        lines.push_back(parse(buffer, static_cast<size_t>(got)));
    }
    return lines;
}

std::vector<LogLine> matching(const std::vector<LogLine>& lines, const std::string& needle) {
    std::vector<LogLine> found;
    for (const LogLine& line : lines) {
        if (line.contains(needle)) {
            found.push_back(line);
        }
    }
    return found;
}

std::string to_string(const std::vector<LogLine>& lines) {
    std::string text;
    for (const LogLine& line : lines) {
        text += "  <" + std::to_string(line.priority) + "> " + line.text + "\n";
    }
    return text;
}

}  // namespace pam_keyinit::test
