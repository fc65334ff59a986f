# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_audit_verify_global_optspecs
    string join \n keys= input-format= profile= hmac-key-file= require-signatures require-complete format= o/output= j/jobs= crypto= max-findings= q/quiet color= h/help V/version
end

function __fish_audit_verify_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_audit_verify_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_audit_verify_using_subcommand
    set -l cmd (__fish_audit_verify_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c audit-verify -n "__fish_audit_verify_needs_command" -l keys -d 'Public keys: PEM SPKI, JWK, JWKS or an aat-verify keystore, or a directory of them' -r -F
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l input-format -d 'Container format; default: detected from the content' -r -f -a "jsonl\t'JSON Lines'
json\t'A JSON array or bundle object'
syslog\t'Syslog (RFC 5424, RFC 6587, RFC 3164)'
csv\t'CSV with a header row'"
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l profile -d 'Input profile: a built-in name or a profile file; default: detected from the records' -r
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l hmac-key-file -d 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)' -r -F
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l format -d 'Report format' -r -f -a "human\t'Verdict, a table per chain and each finding quoting its line'
json\t'One JSON object, schema audit-verify/report/v1 (see docs/report.md)'"
complete -c audit-verify -n "__fish_audit_verify_needs_command" -s o -l output -d 'Write the report to FILE instead of stdout' -r -F
complete -c audit-verify -n "__fish_audit_verify_needs_command" -s j -l jobs -d 'Worker threads for parsing, hashing and signature checks (default: all cores)' -r
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l crypto -d 'Crypto provider' -r -f -a "aws-lc\t'aws-lc-rs (the fast default)'
rustcrypto\t'The pure-Rust p256, ml-dsa and ed25519-dalek crates'"
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l max-findings -d 'Findings of one code shown in the human report before the rest are only counted' -r
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l color -d 'Colour in the human report' -r -f -a "auto\t'When stdout is a terminal and NO_COLOR is not set'
always\t'Always'
never\t'Never'"
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l require-signatures -d 'Treat unsigned records as failures'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l require-complete -d 'Treat an unanchored head or open tail as inconclusive instead of a warning'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -s q -l quiet -d 'Print nothing but the report (no progress, no notes on stderr)'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -s V -l version -d 'Print version'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "verify" -d 'Verify one or more exports (the default command)'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "profiles" -d 'List the built-in profiles, or print one as a profile file'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "completions" -d 'Print shell completions to stdout'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l keys -d 'Public keys: PEM SPKI, JWK, JWKS or an aat-verify keystore, or a directory of them' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l input-format -d 'Container format; default: detected from the content' -r -f -a "jsonl\t'JSON Lines'
json\t'A JSON array or bundle object'
syslog\t'Syslog (RFC 5424, RFC 6587, RFC 3164)'
csv\t'CSV with a header row'"
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l profile -d 'Input profile: a built-in name or a profile file; default: detected from the records' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l hmac-key-file -d 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l format -d 'Report format' -r -f -a "human\t'Verdict, a table per chain and each finding quoting its line'
json\t'One JSON object, schema audit-verify/report/v1 (see docs/report.md)'"
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -s o -l output -d 'Write the report to FILE instead of stdout' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -s j -l jobs -d 'Worker threads for parsing, hashing and signature checks (default: all cores)' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l crypto -d 'Crypto provider' -r -f -a "aws-lc\t'aws-lc-rs (the fast default)'
rustcrypto\t'The pure-Rust p256, ml-dsa and ed25519-dalek crates'"
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l max-findings -d 'Findings of one code shown in the human report before the rest are only counted' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l color -d 'Colour in the human report' -r -f -a "auto\t'When stdout is a terminal and NO_COLOR is not set'
always\t'Always'
never\t'Never'"
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l require-signatures -d 'Treat unsigned records as failures'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l require-complete -d 'Treat an unanchored head or open tail as inconclusive instead of a warning'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -s q -l quiet -d 'Print nothing but the report (no progress, no notes on stderr)'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand profiles" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify profiles completions help" -f -a "verify" -d 'Verify one or more exports (the default command)'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify profiles completions help" -f -a "profiles" -d 'List the built-in profiles, or print one as a profile file'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify profiles completions help" -f -a "completions" -d 'Print shell completions to stdout'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify profiles completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
