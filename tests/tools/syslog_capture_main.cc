// SPDX-License-Identifier: BSD-3-Clause
// syslog-capture -- COMMAND [ARG...]
// Runs COMMAND with /dev/log caught in a private mount namespace, then
// prints every line it logged. For machines without a syslog daemon (and
// for seeing one program's lines only). Needs root.
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

#include "syslog_capture.h"

namespace {

const char* priority_name(int priority) {
    static const char* const names[] = {"emerg",   "alert",  "crit", "err",
                                        "warning", "notice", "info", "debug"};
    return priority >= 0 && priority < 8 ? names[priority] : "?";
}

}  // namespace

int main(int argc, char** argv) {
    int first = 1;
    if (first < argc && std::strcmp(argv[first], "--") == 0) {
        ++first;
    }
    if (first >= argc) {
        std::fprintf(stderr, "usage: %s -- COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    std::string error;
    auto capture = pam_keyinit::test::SyslogCapture::start(&error);
    if (!capture) {
        std::fprintf(stderr, "%s: cannot catch /dev/log: %s\n", argv[0], error.c_str());
        return 1;
    }
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) {
        std::perror("fork");
        return 1;
    }
    if (pid == 0) {
        execvp(argv[first], argv + first);
        std::fprintf(stderr, "%s: %s: %s\n", argv[0], argv[first], std::strerror(errno));
        _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    for (const auto& line : capture->take()) {
        std::printf("syslog %-7s %s\n", priority_name(line.priority), line.text.c_str());
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
