#!/usr/bin/env python3
"""sipwall-rules check: exit codes and file:line:column diagnostics on good and bad files."""
import argparse
import os
import subprocess
import sys


def run(binary, *args, cwd):
    p = subprocess.run([binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--binary', required=True)
    ap.add_argument('--data', required=True)
    ap.add_argument('--rules', required=True)
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    failures = []

    def expect(name, args, code, stdout_has=(), stderr_has=(), cwd=a.data):
        rc, out, err = run(binary, *args, cwd=cwd)
        problems = []
        if rc != code:
            problems.append(f'exit {rc}, expected {code}')
        problems += [f'stdout lacks {s!r}' for s in stdout_has if s not in out]
        problems += [f'stderr lacks {s!r}' for s in stderr_has if s not in err]
        status = 'ok' if not problems else 'FAIL'
        print(f'{status}: {name}')
        if problems:
            failures.append(name)
            print('  ' + '\n  '.join(problems))
            print('  stdout: ' + out.replace('\n', '\n          '))
            print('  stderr: ' + err.replace('\n', '\n          '))

    expect('default set', ['check', 'default.rules'], 0,
           stdout_has=['default.rules: ok: 31 signatures, 7 limits, 0 overrides, 0 acl entries, '
                       '2 files, version fnv1a64:', ' ms, database '],
           cwd=a.rules)
    expect('operator set', ['check', 'good.rules'], 0,
           stdout_has=['good.rules: ok: 32 signatures, 4 limits, 1 overrides, 2 acl entries'])
    expect('control statements', ['check', 'control.rules'], 0,
           stdout_has=['control.rules: ok: 32 signatures, 4 limits, 1 overrides, 2 acl entries',
                       '; control: core site:core, 2 trunks, 1 account'])
    expect('control statement errors', ['check', 'control_bad.rules'], 1, stderr_has=[
        "control_bad.rules:2:1: error: a second core (the first is 'site:core' at "
        "control_bad.rules:1:1)",
        "control_bad.rules:4:15: error: prefix 198.51.100.0/24 is already in trunk 'site:t1' "
        "(at control_bad.rules:3:1)",
        "control_bad.rules:5:28: error: bad digest algorithm 'MD5-sess'",
        "control_bad.rules:5:52: error: bad unknown-source action 'drop'",
        'control_bad.rules: 4 errors'])
    expect('syntax errors', ['check', 'bad_syntax.rules'], 1, stderr_has=[
        "bad_syntax.rules:2:37: error: bad number 'fast' for 'rate'",
        "bad_syntax.rules:3:19: error: bad prefix '203.0.113.0/33'",
        "bad_syntax.rules:4:50: error: unterminated string",
        'bad_syntax.rules: 3 errors'])
    expect('bad regex', ['check', 'bad_regex.rules'], 1, stderr_has=[
        "bad_regex.rules:3:59: error: bad pattern in signature 'site:sig.broken': "
        'Missing close parenthesis'])
    expect('duplicate id across include', ['check', 'dup_main.rules'], 1, stderr_has=[
        "dup_included.rules:2:6: error: duplicate id 'site:limit.sip' "
        '(first defined at dup_main.rules:1:7)'])
    expect('include cycle', ['check', 'cycle_a.rules'], 1, stderr_has=[
        'cycle_b.rules:1:9: error: include cycle: cycle_a.rules -> cycle_b.rules -> '
        'cycle_a.rules'])
    expect('contradictory acl', ['check', 'acl_conflict.rules'], 1, stderr_has=[
        "acl_conflict.rules:2:18: error: contradictory ACL: 'site:acl.b' would allow "
        "198.51.100.0/24 but 'site:acl.a' (at acl_conflict.rules:1:1) denies it"])
    expect('compile budget', ['check', '--max-signatures', '30', 'default.rules'], 1,
           stderr_has=['default-signatures.rules:', 'error: compile budget exceeded: 31 '
                       'signatures, the limit is 30'], cwd=a.rules)
    expect('missing file', ['check', 'nope.rules'], 1,
           stderr_has=['nope.rules: error: cannot read rule file: No such file or directory'])
    expect('no file', ['check'], 2, stderr_has=['usage: sipwall-rules check'])
    expect('no command', [], 2, stderr_has=['usage:'])
    expect('unknown command', ['compile', 'x'], 2, stderr_has=["unknown command 'compile'"])
    expect('explain without a capture', ['explain', 'x'], 2,
           stderr_has=['usage: sipwall-rules explain FILE --pcap CAPTURE'])
    expect('unknown option', ['check', '--fast', 'x'], 2, stderr_has=['unknown option --fast'])
    expect('bad option value', ['check', '--max-compile-ms', 'soon', 'x'], 2,
           stderr_has=['--max-compile-ms needs a whole number'])
    expect('help', ['--help'], 0, stdout_has=['usage: sipwall-rules check'])

    print(f'{len(failures)} failed')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
