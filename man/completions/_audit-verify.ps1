
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'audit-verify' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'audit-verify'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'audit-verify' {
            [CompletionResult]::new('--keys', '--keys', [CompletionResultType]::ParameterName, 'Public keys: PEM SPKI, JWK, JWKS or an aat-verify keystore, or a directory of them')
            [CompletionResult]::new('--input-format', '--input-format', [CompletionResultType]::ParameterName, 'Container format; default: detected from the content')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Input profile: a built-in name or a profile file; default: detected from the records')
            [CompletionResult]::new('--checkpoint', '--checkpoint', [CompletionResultType]::ParameterName, 'Signed checkpoint (tree head) to hold the records against; repeatable')
            [CompletionResult]::new('--checkpoint-key', '--checkpoint-key', [CompletionResultType]::ParameterName, 'C2SP verifier key for checkpoint notes, or a file with one per line; repeatable')
            [CompletionResult]::new('--hmac-key-file', '--hmac-key-file', [CompletionResultType]::ParameterName, 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of stdout')
            [CompletionResult]::new('--certificate', '--certificate', [CompletionResultType]::ParameterName, 'Write a signed verification certificate (DSSE + in-toto) to OUT; needs --sign-key')
            [CompletionResult]::new('--sign-key', '--sign-key', [CompletionResultType]::ParameterName, 'The auditor''s private key for --certificate (PKCS#8 PEM, P-256 or ML-DSA-65)')
            [CompletionResult]::new('--anchor', '--anchor', [CompletionResultType]::ParameterName, 'A previous certificate: the export must continue the chain heads it records')
            [CompletionResult]::new('--anchor-key', '--anchor-key', [CompletionResultType]::ParameterName, 'Public key(s) of the auditor who signed the --anchor certificate')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Check signatures only of records at or after T (RFC 3339, or a duration back from --now: 24h, 7d)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Check signatures only of records at or before T (RFC 3339, or a duration back from --now)')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'The instant taken as now (RFC 3339), recorded in certificates; default: the clock')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all cores)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all cores)')
            [CompletionResult]::new('--crypto', '--crypto', [CompletionResultType]::ParameterName, 'Crypto provider')
            [CompletionResult]::new('--max-findings', '--max-findings', [CompletionResultType]::ParameterName, 'Findings of one code shown in the human report before the rest are only counted')
            [CompletionResult]::new('--max-chains', '--max-chains', [CompletionResultType]::ParameterName, 'Chains (sessions) checked at most; each costs about 1 KiB of memory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in the human report')
            [CompletionResult]::new('--require-signatures', '--require-signatures', [CompletionResultType]::ParameterName, 'Treat unsigned records as failures')
            [CompletionResult]::new('--require-complete', '--require-complete', [CompletionResultType]::ParameterName, 'Treat an unanchored head or open tail as inconclusive instead of a warning')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the report (no progress, no notes on stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the report (no progress, no notes on stderr)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Do not show the progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify one or more exports (the default command)')
            [CompletionResult]::new('cert', 'cert', [CompletionResultType]::ParameterValue, 'Check a verification certificate and print what it certifies')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Write an auditor''s signing key pair (PKCS#8 private key, SPKI public key)')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge the certificates of consecutive shards of one export into one certificate')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the built-in profiles, or print one as a profile file')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'audit-verify;verify' {
            [CompletionResult]::new('--keys', '--keys', [CompletionResultType]::ParameterName, 'Public keys: PEM SPKI, JWK, JWKS or an aat-verify keystore, or a directory of them')
            [CompletionResult]::new('--input-format', '--input-format', [CompletionResultType]::ParameterName, 'Container format; default: detected from the content')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Input profile: a built-in name or a profile file; default: detected from the records')
            [CompletionResult]::new('--checkpoint', '--checkpoint', [CompletionResultType]::ParameterName, 'Signed checkpoint (tree head) to hold the records against; repeatable')
            [CompletionResult]::new('--checkpoint-key', '--checkpoint-key', [CompletionResultType]::ParameterName, 'C2SP verifier key for checkpoint notes, or a file with one per line; repeatable')
            [CompletionResult]::new('--hmac-key-file', '--hmac-key-file', [CompletionResultType]::ParameterName, 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of stdout')
            [CompletionResult]::new('--certificate', '--certificate', [CompletionResultType]::ParameterName, 'Write a signed verification certificate (DSSE + in-toto) to OUT; needs --sign-key')
            [CompletionResult]::new('--sign-key', '--sign-key', [CompletionResultType]::ParameterName, 'The auditor''s private key for --certificate (PKCS#8 PEM, P-256 or ML-DSA-65)')
            [CompletionResult]::new('--anchor', '--anchor', [CompletionResultType]::ParameterName, 'A previous certificate: the export must continue the chain heads it records')
            [CompletionResult]::new('--anchor-key', '--anchor-key', [CompletionResultType]::ParameterName, 'Public key(s) of the auditor who signed the --anchor certificate')
            [CompletionResult]::new('--since', '--since', [CompletionResultType]::ParameterName, 'Check signatures only of records at or after T (RFC 3339, or a duration back from --now: 24h, 7d)')
            [CompletionResult]::new('--until', '--until', [CompletionResultType]::ParameterName, 'Check signatures only of records at or before T (RFC 3339, or a duration back from --now)')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'The instant taken as now (RFC 3339), recorded in certificates; default: the clock')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all cores)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all cores)')
            [CompletionResult]::new('--crypto', '--crypto', [CompletionResultType]::ParameterName, 'Crypto provider')
            [CompletionResult]::new('--max-findings', '--max-findings', [CompletionResultType]::ParameterName, 'Findings of one code shown in the human report before the rest are only counted')
            [CompletionResult]::new('--max-chains', '--max-chains', [CompletionResultType]::ParameterName, 'Chains (sessions) checked at most; each costs about 1 KiB of memory')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in the human report')
            [CompletionResult]::new('--require-signatures', '--require-signatures', [CompletionResultType]::ParameterName, 'Treat unsigned records as failures')
            [CompletionResult]::new('--require-complete', '--require-complete', [CompletionResultType]::ParameterName, 'Treat an unanchored head or open tail as inconclusive instead of a warning')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the report (no progress, no notes on stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the report (no progress, no notes on stderr)')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Do not show the progress bar')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'audit-verify;cert' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Authenticate a certificate, print what it certifies, and optionally re-check its inputs')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'audit-verify;cert;verify' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'The auditor''s public key(s): PEM SPKI, JWK or JWKS')
            [CompletionResult]::new('--inputs', '--inputs', [CompletionResultType]::ParameterName, 'Re-check these files against the certificate''s subjects (SHA-256)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Output format')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'audit-verify;cert;help' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Authenticate a certificate, print what it certifies, and optionally re-check its inputs')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'audit-verify;cert;help;verify' {
            break
        }
        'audit-verify;cert;help;help' {
            break
        }
        'audit-verify;keygen' {
            [CompletionResult]::new('--alg', '--alg', [CompletionResultType]::ParameterName, 'Algorithm')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory to write the key pair into (created if absent)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'audit-verify;merge' {
            [CompletionResult]::new('--key', '--key', [CompletionResultType]::ParameterName, 'Public key(s) that signed the shard certificates')
            [CompletionResult]::new('--certificate', '--certificate', [CompletionResultType]::ParameterName, 'Where to write the merged certificate')
            [CompletionResult]::new('--sign-key', '--sign-key', [CompletionResultType]::ParameterName, 'The auditor''s private key (PKCS#8 PEM)')
            [CompletionResult]::new('--now', '--now', [CompletionResultType]::ParameterName, 'The instant recorded as verified_at (RFC 3339); default: the clock')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'audit-verify;profiles' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'audit-verify;completions' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'audit-verify;help' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify one or more exports (the default command)')
            [CompletionResult]::new('cert', 'cert', [CompletionResultType]::ParameterValue, 'Check a verification certificate and print what it certifies')
            [CompletionResult]::new('keygen', 'keygen', [CompletionResultType]::ParameterValue, 'Write an auditor''s signing key pair (PKCS#8 private key, SPKI public key)')
            [CompletionResult]::new('merge', 'merge', [CompletionResultType]::ParameterValue, 'Merge the certificates of consecutive shards of one export into one certificate')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the built-in profiles, or print one as a profile file')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'audit-verify;help;verify' {
            break
        }
        'audit-verify;help;cert' {
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Authenticate a certificate, print what it certifies, and optionally re-check its inputs')
            break
        }
        'audit-verify;help;cert;verify' {
            break
        }
        'audit-verify;help;keygen' {
            break
        }
        'audit-verify;help;merge' {
            break
        }
        'audit-verify;help;profiles' {
            break
        }
        'audit-verify;help;completions' {
            break
        }
        'audit-verify;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
