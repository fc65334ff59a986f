# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_audit_verify_global_optspecs
    string join \n keys= input-format= profile= checkpoint= checkpoint-key= hmac-key-file= require-signatures require-complete format= o/output= certificate= sign-key= anchor= anchor-key= since= until= now= j/jobs= crypto= max-findings= max-chains= q/quiet no-progress color= h/help V/version
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
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l checkpoint -d 'Signed checkpoint (tree head) to hold the records against; repeatable' -r -F
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l checkpoint-key -d 'C2SP verifier key for checkpoint notes, or a file with one per line; repeatable' -r
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l hmac-key-file -d 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)' -r -F
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l format -d 'Report format' -r -f -a "human\t'Verdict, a table per chain and each finding quoting its line'
json\t'One JSON object, schema audit-verify/report/v1 (see docs/report.md)'
junit\t'JUnit XML: one test case per chain (for CI test reports)'
github\t'GitHub Actions annotations (::error file=…,line=…::)'"
complete -c audit-verify -n "__fish_audit_verify_needs_command" -s o -l output -d 'Write the report to FILE instead of stdout' -r -F
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l certificate -d 'Write a signed verification certificate (DSSE + in-toto) to OUT; needs --sign-key' -r -F
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l sign-key -d 'The auditor\'s private key for --certificate (PKCS#8 PEM, P-256 or ML-DSA-65)' -r -F
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l anchor -d 'A previous certificate: the export must continue the chain heads it records' -r -F
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l anchor-key -d 'Public key(s) of the auditor who signed the --anchor certificate' -r -F
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l since -d 'Check signatures only of records at or after T (RFC 3339, or a duration back from --now: 24h, 7d)' -r
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l until -d 'Check signatures only of records at or before T (RFC 3339, or a duration back from --now)' -r
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l now -d 'The instant taken as now (RFC 3339), recorded in certificates; default: the clock' -r
complete -c audit-verify -n "__fish_audit_verify_needs_command" -s j -l jobs -d 'Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all cores)' -r
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l crypto -d 'Crypto provider' -r -f -a "aws-lc\t'aws-lc-rs (the fast default)'
rustcrypto\t'The pure-Rust p256, ml-dsa and ed25519-dalek crates'"
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l max-findings -d 'Findings of one code shown in the human report before the rest are only counted' -r
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l max-chains -d 'Chains (sessions) checked at most; each costs about 1 KiB of memory' -r
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l color -d 'Colour in the human report' -r -f -a "auto\t'When stdout is a terminal and NO_COLOR is not set'
always\t'Always'
never\t'Never'"
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l require-signatures -d 'Treat unsigned records as failures'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l require-complete -d 'Treat an unanchored head or open tail as inconclusive instead of a warning'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -s q -l quiet -d 'Print nothing but the report (no progress, no notes on stderr)'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -l no-progress -d 'Do not show the progress bar'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -s V -l version -d 'Print version'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "verify" -d 'Verify one or more exports (the default command)'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "cert" -d 'Check a verification certificate and print what it certifies'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "keygen" -d 'Write an auditor\'s signing key pair (PKCS#8 private key, SPKI public key)'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "merge" -d 'Merge the certificates of consecutive shards of one export into one certificate'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "profiles" -d 'List the built-in profiles, or print one as a profile file'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "completions" -d 'Print shell completions to stdout'
complete -c audit-verify -n "__fish_audit_verify_needs_command" -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l keys -d 'Public keys: PEM SPKI, JWK, JWKS or an aat-verify keystore, or a directory of them' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l input-format -d 'Container format; default: detected from the content' -r -f -a "jsonl\t'JSON Lines'
json\t'A JSON array or bundle object'
syslog\t'Syslog (RFC 5424, RFC 6587, RFC 3164)'
csv\t'CSV with a header row'"
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l profile -d 'Input profile: a built-in name or a profile file; default: detected from the records' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l checkpoint -d 'Signed checkpoint (tree head) to hold the records against; repeatable' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l checkpoint-key -d 'C2SP verifier key for checkpoint notes, or a file with one per line; repeatable' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l hmac-key-file -d 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l format -d 'Report format' -r -f -a "human\t'Verdict, a table per chain and each finding quoting its line'
json\t'One JSON object, schema audit-verify/report/v1 (see docs/report.md)'
junit\t'JUnit XML: one test case per chain (for CI test reports)'
github\t'GitHub Actions annotations (::error file=…,line=…::)'"
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -s o -l output -d 'Write the report to FILE instead of stdout' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l certificate -d 'Write a signed verification certificate (DSSE + in-toto) to OUT; needs --sign-key' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l sign-key -d 'The auditor\'s private key for --certificate (PKCS#8 PEM, P-256 or ML-DSA-65)' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l anchor -d 'A previous certificate: the export must continue the chain heads it records' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l anchor-key -d 'Public key(s) of the auditor who signed the --anchor certificate' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l since -d 'Check signatures only of records at or after T (RFC 3339, or a duration back from --now: 24h, 7d)' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l until -d 'Check signatures only of records at or before T (RFC 3339, or a duration back from --now)' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l now -d 'The instant taken as now (RFC 3339), recorded in certificates; default: the clock' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -s j -l jobs -d 'Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all cores)' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l crypto -d 'Crypto provider' -r -f -a "aws-lc\t'aws-lc-rs (the fast default)'
rustcrypto\t'The pure-Rust p256, ml-dsa and ed25519-dalek crates'"
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l max-findings -d 'Findings of one code shown in the human report before the rest are only counted' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l max-chains -d 'Chains (sessions) checked at most; each costs about 1 KiB of memory' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l color -d 'Colour in the human report' -r -f -a "auto\t'When stdout is a terminal and NO_COLOR is not set'
always\t'Always'
never\t'Never'"
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l require-signatures -d 'Treat unsigned records as failures'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l require-complete -d 'Treat an unanchored head or open tail as inconclusive instead of a warning'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -s q -l quiet -d 'Print nothing but the report (no progress, no notes on stderr)'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -l no-progress -d 'Do not show the progress bar'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand cert; and not __fish_seen_subcommand_from verify help" -s h -l help -d 'Print help'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand cert; and not __fish_seen_subcommand_from verify help" -f -a "verify" -d 'Authenticate a certificate, print what it certifies, and optionally re-check its inputs'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand cert; and not __fish_seen_subcommand_from verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand cert; and __fish_seen_subcommand_from verify" -l key -d 'The auditor\'s public key(s): PEM SPKI, JWK or JWKS' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand cert; and __fish_seen_subcommand_from verify" -l inputs -d 'Re-check these files against the certificate\'s subjects (SHA-256)' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand cert; and __fish_seen_subcommand_from verify" -l format -d 'Output format' -r -f -a "human\t'What the certificate certifies, as text and a table'
json\t'The check\'s result and the statement as JSON'"
complete -c audit-verify -n "__fish_audit_verify_using_subcommand cert; and __fish_seen_subcommand_from verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand cert; and __fish_seen_subcommand_from help" -f -a "verify" -d 'Authenticate a certificate, print what it certifies, and optionally re-check its inputs'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand cert; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand keygen" -l alg -d 'Algorithm' -r -f -a "es256\t'ECDSA P-256 with SHA-256'
ml-dsa-65\t'ML-DSA-65 (FIPS 204)'"
complete -c audit-verify -n "__fish_audit_verify_using_subcommand keygen" -l out -d 'Directory to write the key pair into (created if absent)' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand keygen" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand merge" -l key -d 'Public key(s) that signed the shard certificates' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand merge" -l certificate -d 'Where to write the merged certificate' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand merge" -l sign-key -d 'The auditor\'s private key (PKCS#8 PEM)' -r -F
complete -c audit-verify -n "__fish_audit_verify_using_subcommand merge" -l now -d 'The instant recorded as verified_at (RFC 3339); default: the clock' -r
complete -c audit-verify -n "__fish_audit_verify_using_subcommand merge" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand profiles" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify cert keygen merge profiles completions help" -f -a "verify" -d 'Verify one or more exports (the default command)'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify cert keygen merge profiles completions help" -f -a "cert" -d 'Check a verification certificate and print what it certifies'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify cert keygen merge profiles completions help" -f -a "keygen" -d 'Write an auditor\'s signing key pair (PKCS#8 private key, SPKI public key)'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify cert keygen merge profiles completions help" -f -a "merge" -d 'Merge the certificates of consecutive shards of one export into one certificate'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify cert keygen merge profiles completions help" -f -a "profiles" -d 'List the built-in profiles, or print one as a profile file'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify cert keygen merge profiles completions help" -f -a "completions" -d 'Print shell completions to stdout'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and not __fish_seen_subcommand_from verify cert keygen merge profiles completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c audit-verify -n "__fish_audit_verify_using_subcommand help; and __fish_seen_subcommand_from cert" -f -a "verify" -d 'Authenticate a certificate, print what it certifies, and optionally re-check its inputs'
