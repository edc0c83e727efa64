#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Runs inside the booted Debian 12 or 13 container as e2e.service (tests/e2e/e2e.sh
# installs it): logs a normal user in through the real login programs and
# writes what each session got to /root/e2e/out.log, then powers the
# container off. Lines of out.log:
#   e2e: TEXT                progress and context
#   obs CASE KEY VALUE       an observation, asserted by e2e.sh
# /root/e2e/mode is "stock", "ours" or "blocked"; /root/e2e/conf/ holds the
# project's conf-examples.
set -uo pipefail
e2e=/root/e2e
mode=$(cat "$e2e/mode")
out=$e2e/out.log
exec >>"$out" 2>&1
started=$SECONDS
user=alice
password='e2e-pass-Word-1'
run=/run/e2e
ssh_options=(-o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  -o LogLevel=ERROR -o ConnectTimeout=20)

say() { echo "e2e: [$((SECONDS - started)) s] $*"; }
obs() { echo "obs $1 $2 ${3:-}"; }

finish() {
  say "done"
  touch "$e2e/done"
  systemctl poweroff --no-block
}
trap finish EXIT

# --- helpers installed for the user's sessions -----------------------------
mkdir -p "$run"
chmod 1777 "$run"
cat >/usr/local/bin/e2e-probe <<'EOF'
#!/bin/sh
# e2e-probe CASE: what this process's session keyring is.
out=/run/e2e/$1.probe
{
  echo "desc=$(keyctl rdescribe @s 2>&1 | head -n 1)"
  echo "id=$(keyctl id @s 2>/dev/null)"
  if keyctl show @s 2>/dev/null | grep -q "keyring: _uid\.$(id -u)\$"; then
    echo uidlinked=yes
  else
    echo uidlinked=no
  fi
  echo "user=$(id -un)"
} >"$out.$$"
mv -f "$out.$$" "$out"
EOF
cat >/usr/local/bin/e2e-linger <<'EOF'
#!/bin/sh
# e2e-linger CASE: outlives the session; once CASE.go exists, waits up to
# 10 s for the session keyring it inherited to be revoked, and says how it
# ended.
i=0
while [ ! -e "/run/e2e/$1.go" ] && [ $i -lt 1200 ]; do sleep 0.1; i=$((i + 1)); done
i=0
while [ $i -lt 100 ] && keyctl rdescribe @s >/dev/null 2>&1; do sleep 0.1; i=$((i + 1)); done
result=$(keyctl rdescribe @s 2>&1 | head -n 1)
echo "$result" >"/run/e2e/$1.after.$$"
mv -f "/run/e2e/$1.after.$$" "/run/e2e/$1.after"
EOF
cat >/usr/local/bin/e2e-session <<'EOF'
#!/bin/sh
# e2e-session CASE: probes the session keyring and leaves a process behind
# that holds it.
/usr/local/bin/e2e-probe "$1"
setsid -f /usr/local/bin/e2e-linger "$1" </dev/null >/dev/null 2>&1
EOF
cat >/usr/local/bin/e2e-close-probe <<'EOF'
#!/bin/sh
# Run by pam_exec at close_session: the session keyring as the later
# modules of the stack see it.
keyctl rdescribe @s >/run/e2e/stack-close.atclose 2>&1
exit 0
EOF
chmod 755 /usr/local/bin/e2e-probe /usr/local/bin/e2e-linger /usr/local/bin/e2e-session \
  /usr/local/bin/e2e-close-probe

# --- reading back ----------------------------------------------------------
field() {  # field FILE KEY
  sed -n "s/^$2=//p" "$1" 2>/dev/null | head -n 1
}
wait_for() {  # wait_for FILE SECONDS
  local i=0
  while [ ! -e "$1" ] && [ $i -lt $(($2 * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  [ -e "$1" ]
}
# report CASE [PROBE-NAME]: the probe's observations of CASE.
report() {
  local case=$1 probe=$run/${2:-$1}.probe desc
  if ! wait_for "$probe" 10; then
    obs "$case" probe missing
    return
  fi
  desc=$(field "$probe" desc)
  obs "$case" desc "$desc"
  obs "$case" owner "$(cut -d';' -f2 <<<"$desc")"
  obs "$case" name "$(cut -d';' -f5 <<<"$desc")"
  obs "$case" uidlinked "$(field "$probe" uidlinked)"
  obs "$case" id "$(field "$probe" id)"
  obs "$case" user "$(field "$probe" user)"
}
# The module's lines in the journal since the last call, per PAM service.
journal_cursor=$run/journal.cursor
journalctl --sync
journalctl -q -n 0 --cursor-file="$journal_cursor" >/dev/null 2>&1
module_lines() {  # module_lines CASE SERVICE...
  local case=$1 service lines count
  shift
  journalctl --sync
  journalctl -q -o cat --cursor-file="$journal_cursor" >"$run/window.log" 2>/dev/null
  lines=$(grep 'pam_keyinit(' "$run/window.log" || true)
  for service in "$@"; do
    count=$(grep -c "pam_keyinit($service:" <<<"$lines" || true)
    obs "$case" "log.$service" "$count"
    grep "pam_keyinit($service:" <<<"$lines" | sed "s/^/e2e: $case: journal: /"
    obs "$case" "unavailable.$service" "$(grep "pam_keyinit($service:" <<<"$lines" |
      grep -c 'kernel keyrings are unavailable' || true)"
  done
}
# After every case: each lingering process is told its session is over.
lingering=()
session_over() { touch "$run/$1.go"; lingering+=("$1"); }

# --- the system -----------------------------------------------------------
say "mode $mode, kernel $(uname -r), $(systemctl --version | head -n 1)"
obs system keyctl "$(keyctl rdescribe @s 2>&1 | head -n 1)"
diversion=$(dpkg-divert --list '*pam_keyinit.so' | head -n 1)
say "diversion: ${diversion:-none}"
obs system diverted "$([ -n "$diversion" ] && echo yes || echo no)"

pam_file() {  # the file PAM reads for SERVICE
  if [ -e "/etc/pam.d/$1" ]; then echo "/etc/pam.d/$1"; else echo "/usr/lib/pam.d/$1"; fi
}
# Debian's own file where it names pam_keyinit; else the pam_keyinit lines
# of the example file named EXAMPLE (from conf-examples/), put after the
# line they follow there.
use_keyinit() {  # use_keyinit SERVICE EXAMPLE
  local service=$1 example=$e2e/conf/$2 file anchor line
  file=$(pam_file "$service")
  if grep -q '^[^#]*pam_keyinit\.so' "$file"; then
    say "PAM $service: Debian's own $file: $(grep '^[^#]*pam_keyinit\.so' "$file" | tr -s ' \t' ' ' | paste -sd'|')"
    return
  fi
  if [ "$file" != "/etc/pam.d/$service" ]; then cp "$file" "/etc/pam.d/$service"; file=/etc/pam.d/$service; fi
  anchor=
  while IFS= read -r line; do
    case $line in
      '' | '#'*) continue ;;
      *pam_keyinit.so*)
        # After the line it follows in the example (blanks aside), else at
        # the top of its module type's stack.
        awk -v a="$anchor" -v l="$line" '
          function squeeze(text) { gsub(/[ \t]+/, " ", text); sub(/ $/, "", text); return text }
          { lines[NR] = $0 }
          END {
            split(l, words, /[ \t]+/)
            at = -1
            for (i = 1; i <= NR && at < 0; i++) if (a != "" && squeeze(lines[i]) == squeeze(a)) at = i
            for (i = 1; i <= NR && at < 0; i++) if (index(lines[i], words[1]) == 1) at = i - 1
            if (at < 0) at = NR
            for (i = 0; i <= NR; i++) { if (i > 0) print lines[i]; if (i == at) print l }
          }' "$file" >"$file.new"
        mv "$file.new" "$file"
        say "PAM $service: Debian's file has no pam_keyinit line; added from conf-examples/$2: $(tr -s ' \t' ' ' <<<"$line")"
        anchor=$line
        ;;
      *) anchor=$line ;;
    esac
  done <"$example"
}
for service in sshd login su-l runuser runuser-l systemd-user; do use_keyinit "$service" none; done
use_keyinit sudo sudo
use_keyinit sudo-i sudo
use_keyinit cron cron
if [ "$mode" = blocked ]; then
  for service in sshd login su-l runuser runuser-l systemd-user sudo sudo-i cron; do
    file=$(pam_file "$service")
    if [ "$file" != "/etc/pam.d/$service" ]; then cp "$file" "/etc/pam.d/$service"; file=/etc/pam.d/$service; fi
    sed -i -E 's/^([[:space:]]*[a-z]+[[:space:]]+)optional([[:space:]]+pam_keyinit\.so)/\1required\2/' "$file"
    say "PAM $service (blocked): $(grep '^[^#]*pam_keyinit\.so' "$file" | tr -s ' \t' ' ' | paste -sd'|')"
  done
fi
# pam_warn logs each PAM call by name: the order login makes them, and
# whether the user manager closes its session.
sed -i '1i auth optional pam_warn.so\nsession optional pam_warn.so' /etc/pam.d/login
file=$(pam_file systemd-user)
[ "$file" = /etc/pam.d/systemd-user ] || cp "$file" /etc/pam.d/systemd-user
echo 'session optional pam_warn.so' >>/etc/pam.d/systemd-user

# The user, with a password and an ssh key; root's key too.
useradd -m -s /bin/bash "$user"
echo "$user:$password" | chpasswd
uid=$(id -u "$user")
obs system uid "$uid"
for home in /root "/home/$user"; do
  mkdir -p "$home/.ssh"
  ssh-keygen -q -t ed25519 -N '' -f "$home/.ssh/id_ed25519"
  cp "$home/.ssh/id_ed25519.pub" "$home/.ssh/authorized_keys"
done
cp /root/.ssh/id_ed25519.pub "/home/$user/.ssh/root.pub"
chown -R "$user:$user" "/home/$user/.ssh"
# The cron job: once a minute, from now on; read at the end.
echo "* * * * * /usr/local/bin/e2e-probe cron" | crontab -u "$user" -
systemctl restart cron
systemctl is-active --quiet ssh || systemctl start ssh
for _ in $(seq 100); do (: </dev/tcp/127.0.0.1/22) 2>/dev/null && break; sleep 0.1; done
as_user_ssh() { ssh "${ssh_options[@]}" -i "/home/$user/.ssh/id_ed25519" "$user@127.0.0.1" "$@"; }
as_root_ssh() { ssh "${ssh_options[@]}" -i /root/.ssh/id_ed25519 root@127.0.0.1 "$@"; }
# A root process whose session keyring is root's, started by systemd; what
# it leaves behind is not killed when it ends (KillMode=process).
as_root_unit() { systemd-run --quiet --wait --pipe --collect --service-type=exec -p KillMode=process "$@"; }
module_lines setup sshd

# --- the user manager, started through logind -------------------------------
say "user manager: loginctl enable-linger $user"
loginctl enable-linger "$user"
for _ in $(seq 300); do systemctl is-active --quiet "user@$uid.service" && break; sleep 0.1; done
obs usermanager active "$(systemctl is-active "user@$uid.service")"
as_root_unit /bin/sh -c "XDG_RUNTIME_DIR=/run/user/$uid setpriv --reuid=$uid --regid=$uid --init-groups \
  systemd-run --user --quiet --wait --collect /usr/local/bin/e2e-probe usermanager" >/dev/null 2>&1 ||
  say "user manager: systemd-run --user failed"
report usermanager
module_lines usermanager systemd-user

# --- ssh ----------------------------------------------------------------------
say "ssh: key login of $user"
as_user_ssh /usr/local/bin/e2e-session ssh
obs ssh status $?
session_over ssh
report ssh
module_lines ssh sshd

say "ssh: two logins at once"
# shellcheck disable=SC2016 # expanded by the remote shell
wait_other='for _ in $(seq 200); do [ -e /run/e2e/$0.probe ] && exit 0; sleep 0.1; done'
as_user_ssh "/usr/local/bin/e2e-session sshA; sh -c '$wait_other' sshB" &
first=$!
as_user_ssh "/usr/local/bin/e2e-session sshB; sh -c '$wait_other' sshA" &
second=$!
wait "$first"; a=$?
wait "$second"; b=$?
obs ssh2 status "$a/$b"
session_over sshA
session_over sshB
report sshA
report sshB
module_lines ssh2 sshd
if [ "$(field "$run/sshA.probe" id)" != "$(field "$run/sshB.probe" id)" ]; then
  obs ssh2 distinct yes
else
  obs ssh2 distinct no
fi

# --- login on a pseudo-terminal --------------------------------------------
cat >"$e2e/login.exp" <<'EOF'
# login.exp CASE USER [PASSWORD]: login -f USER, or login USER answering the
# password prompt, on a pty; then runs e2e-session CASE in the shell.
set timeout 30
lassign $argv case user password
# util-linux's login (Debian 13) first hangs up its terminal (vhangup) and
# opens it again; a read of the pty in between sees end of file. So the
# first read waits until login has opened it again.
if {$password eq ""} {
  spawn login -f $user
  sleep 1
} else {
  spawn login $user
  sleep 1
  expect {
    "Password: " { send "$password\r" }
    timeout { exit 101 }
  }
}
expect {
  -re {\$ $} {}
  timeout { exit 102 }
}
send "/usr/local/bin/e2e-session $case; exit\r"
expect {
  eof {}
  timeout { exit 103 }
}
lassign [wait] pid spawnid os_error value
exit $value
EOF
say "login -f on a pty, from a systemd unit"
as_root_unit expect -f "$e2e/login.exp" login-f "$user" >"$e2e/login-f.pty" 2>&1
status=$?
obs login-f status $status
[ "$status" -eq 0 ] || tail -n 20 "$e2e/login-f.pty" | sed 's/^/e2e: login-f: pty: /'
session_over login-f
report login-f
module_lines login-f login
grep 'pam_warn(login:' "$run/window.log" | grep -o 'function=\[pam_sm_[a-z_]*\]' |
  sed 's/function=\[pam_sm_\(.*\)\]/\1/' | paste -sd, | sed 's/^/obs login-f order /'

say "login with a password on a pty, from a systemd unit"
as_root_unit expect -f "$e2e/login.exp" login-pw "$user" "$password" >"$e2e/login-pw.pty" 2>&1
status=$?
obs login-pw status $status
[ "$status" -eq 0 ] || tail -n 20 "$e2e/login-pw.pty" | sed 's/^/e2e: login-pw: pty: /'
session_over login-pw
report login-pw
module_lines login-pw login
grep 'pam_warn(login:' "$run/window.log" | grep -o 'function=\[pam_sm_[a-z_]*\]' |
  sed 's/function=\[pam_sm_\(.*\)\]/\1/' | paste -sd, | sed 's/^/obs login-pw order /'

# --- su -l, runuser -l, runuser -u, sudo -i -----------------------------------
switch_command() {  # switch_command KIND CASE: the command line
  case $1 in
    su-l) echo "su -l $user -c '/usr/local/bin/e2e-session $2'" ;;
    runuser-l) echo "runuser -l $user -c '/usr/local/bin/e2e-session $2'" ;;
    runuser) echo "runuser -u $user -- /usr/local/bin/e2e-session $2" ;;
    sudo-i) echo "sudo -i -u $user /usr/local/bin/e2e-session $2" ;;
  esac
}
for kind in su-l runuser-l runuser sudo-i; do
  case=$kind.unit
  say "$kind from a systemd unit (root's keyring)"
  as_root_unit /bin/sh -c "/usr/local/bin/e2e-probe $case.caller; $(switch_command "$kind" "$case")"
  obs "$case" status $?
  session_over "$case"
  report "$case.caller"
  report "$case"
  module_lines "$case" "$kind"

  case=$kind.ssh
  say "$kind from a root ssh login"
  as_root_ssh "/usr/local/bin/e2e-probe $case.caller; $(switch_command "$kind" "$case")"
  obs "$case" status $?
  session_over "$case"
  report "$case.caller"
  report "$case"
  module_lines "$case" "$kind" sshd
done

# --- run0 (systemd 256 and later: Debian 13) -------------------------------------
# run0 runs the command as a transient service of PID 1 with the PAM service
# systemd-run0. Debian 13 ships no such file, so PAM reads "other"; then
# with the file of conf-examples/systemd-run0. What the command leaves
# behind is stopped with its service: no lingering process here.
if command -v run0 >/dev/null; then
  if [ -e /etc/pam.d/systemd-run0 ] || [ -e /usr/lib/pam.d/systemd-run0 ]; then
    obs run0 pamfile yes
  else
    obs run0 pamfile no
  fi
  say "run0 from a systemd unit, PAM files as Debian ships them: $(ls /etc/pam.d/systemd-run0 /usr/lib/pam.d/systemd-run0 2>/dev/null || echo "no systemd-run0, so PAM reads other")"
  as_root_unit run0 --user="$user" /usr/local/bin/e2e-probe run0.other
  obs run0.other status $?
  report run0.other
  module_lines run0.other systemd-run0
  cp "$e2e/conf/systemd-run0" /etc/pam.d/systemd-run0
  [ "$mode" = blocked ] &&
    sed -i -E 's/^([[:space:]]*[a-z]+[[:space:]]+)optional([[:space:]]+pam_keyinit\.so)/\1required\2/' \
      /etc/pam.d/systemd-run0
  say "run0 from a systemd unit, with conf-examples/systemd-run0: $(grep '^[^#]*pam_keyinit\.so' /etc/pam.d/systemd-run0 | tr -s ' \t' ' ')"
  as_root_unit run0 --user="$user" /usr/local/bin/e2e-probe run0.pam
  obs run0.pam status $?
  report run0.pam
  module_lines run0.pam systemd-run0
  rm -f /etc/pam.d/systemd-run0
else
  obs run0 pamfile "not installed"
fi

# --- the module twice: revoked after the rest of the stack -----------------------
say "revoke after the stack: sshd with 'force' at the top, 'revoke' at the end, pam_exec between"
cp /etc/pam.d/sshd "$e2e/sshd.orig"
sed -i -E 's/^([[:space:]]*session[[:space:]]+[a-z]+[[:space:]]+pam_keyinit\.so).*/\1 force/' /etc/pam.d/sshd
keyinit_control=$(sed -n -E 's/^[[:space:]]*session[[:space:]]+([a-z]+)[[:space:]]+pam_keyinit\.so.*/\1/p' /etc/pam.d/sshd | head -n 1)
cat >>/etc/pam.d/sshd <<EOF
session    optional     pam_exec.so type=close_session /usr/local/bin/e2e-close-probe
session    $keyinit_control     pam_keyinit.so revoke
EOF
grep '^[^#]*pam_\(keyinit\|exec\)' /etc/pam.d/sshd | tr -s ' \t' ' ' | sed 's/^/e2e: stack-close: /'
rm -f "$run/stack-close.atclose"
as_user_ssh /usr/local/bin/e2e-session stack-close
obs stack-close status $?
session_over stack-close
report stack-close
wait_for "$run/stack-close.atclose" 10
obs stack-close atclose "$(head -n 1 "$run/stack-close.atclose" 2>/dev/null || echo missing)"
module_lines stack-close sshd
cp "$e2e/sshd.orig" /etc/pam.d/sshd

# --- a display manager: lightdm, autologin on Xvfb ------------------------------
if command -v lightdm >/dev/null && command -v Xvfb >/dev/null; then
  say "display manager: lightdm autologin of $user on Xvfb"
  use_keyinit lightdm-autologin gdm-password
  [ "$mode" = blocked ] &&
    sed -i -E 's/^([[:space:]]*[a-z]+[[:space:]]+)optional([[:space:]]+pam_keyinit\.so)/\1required\2/' \
      /etc/pam.d/lightdm-autologin
  # No VTs and no graphics device in the container: Xvfb, without the VT
  # arguments, and no wait for a graphical seat.
  cat >/usr/local/bin/e2e-xvfb <<'EOF'
#!/bin/sh
for arg; do
  shift
  case $arg in vt[0-9]* | -novtswitch) continue ;; esac
  set -- "$@" "$arg"
done
exec Xvfb "$@"
EOF
  # The X session: probes, then ends when told to (lightdm then closes the
  # PAM session, and logs the user in again: that one just waits).
  cat >/usr/local/bin/e2e-xsession <<'EOF'
#!/bin/sh
[ -e /run/e2e/dm.probe ] && exec sleep 600
/usr/local/bin/e2e-session dm
i=0
while [ ! -e /run/e2e/dm.logout ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
EOF
  chmod 755 /usr/local/bin/e2e-xvfb /usr/local/bin/e2e-xsession
  mkdir -p /usr/share/xsessions /etc/lightdm/lightdm.conf.d
  printf '[Desktop Entry]\nName=e2e\nExec=/usr/local/bin/e2e-xsession\nType=Application\n' \
    >/usr/share/xsessions/e2e.desktop
  # The autologin greeter reads the user and session from this file.
  printf '[LightDM]\nlogind-check-graphical=false\n[Seat:*]\nxserver-command=/usr/local/bin/e2e-xvfb\nautologin-user=%s\nautologin-session=e2e\n' \
    "$user" >/etc/lightdm/lightdm.conf.d/lightdm-autologin-greeter.conf
  systemctl start lightdm
  if wait_for "$run/dm.probe" 30; then
    obs dm status 0
  else
    obs dm status "no session: $(journalctl -q -o cat -u lightdm | tail -n 1)"
  fi
  touch "$run/dm.logout"
  session_over dm
  report dm
  module_lines dm lightdm-autologin
else
  obs dm status "not installed"
fi

# --- cron ----------------------------------------------------------------------
say "cron: waiting for the per-minute job (at most 70 s)"
wait_for "$run/cron.probe" 70
report cron
journalctl --sync
obs cron runs "$(journalctl -q -b -o cat -t CRON | grep -c "($user) CMD" || true)"
obs cron unavailable "$(journalctl -q -b -o cat | grep 'pam_keyinit(cron:' | grep -c 'kernel keyrings are unavailable' || true)"
journalctl -q -b -o cat | grep 'pam_keyinit(cron:' | sort | uniq -c | sed 's/^/e2e: cron: journal: /'

# --- after logout: what the lingering processes saw --------------------------
say "after logout: waiting for ${#lingering[@]} lingering processes"
for case in "${lingering[@]}"; do
  if wait_for "$run/$case.after" 15; then
    after=$(head -n 1 "$run/$case.after")
  else
    after=missing
  fi
  case $after in
    *'Key has been revoked'*) obs "$case" after revoked ;;
    keyring\;*) obs "$case" after "valid:$after" ;;
    *) obs "$case" after "other:$after" ;;
  esac
done

systemctl stop lightdm 2>/dev/null

# --- the user manager stops ------------------------------------------------------
say "user manager: systemctl stop user@$uid.service"
loginctl disable-linger "$user"
journalctl --sync
journalctl -q -n 0 --cursor-file="$journal_cursor" >/dev/null 2>&1
systemctl stop "user@$uid.service"
sleep 1
journalctl --sync
journalctl -q -o cat --cursor-file="$journal_cursor" 2>/dev/null | grep 'pam_warn(systemd-user:session)' |
  grep -o 'function=\[pam_sm_[a-z_]*\]' | sed 's/function=\[pam_sm_\(.*\)\]/\1/' | paste -sd, |
  sed 's/^/obs usermanager-stop calls /'
echo "obs usermanager-stop done"
journalctl --sync
obs system modulelines "$(journalctl -q -b -o cat | grep -c 'pam_keyinit(' || true)"
journalctl -q -b -o cat | grep 'pam_keyinit(' | sed 's/^/e2e: journal: /' | sort | uniq -c | head -n 40
