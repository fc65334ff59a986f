
use builtin;
use str;

set edit:completion:arg-completer[audit-verify] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'audit-verify'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'audit-verify'= {
            cand --keys 'Public keys: PEM SPKI, JWK, JWKS or an aat-verify keystore, or a directory of them'
            cand --input-format 'Container format; default: detected from the content'
            cand --profile 'Input profile: a built-in name or a profile file; default: detected from the records'
            cand --checkpoint 'Signed checkpoint (tree head) to hold the records against; repeatable'
            cand --checkpoint-key 'C2SP verifier key for checkpoint notes, or a file with one per line; repeatable'
            cand --hmac-key-file 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)'
            cand --format 'Report format'
            cand -o 'Write the report to FILE instead of stdout'
            cand --output 'Write the report to FILE instead of stdout'
            cand --certificate 'Write a signed verification certificate (DSSE + in-toto) to OUT; needs --sign-key'
            cand --sign-key 'The auditor''s private key for --certificate (PKCS#8 PEM, P-256 or ML-DSA-65)'
            cand --anchor 'A previous certificate: the export must continue the chain heads it records'
            cand --anchor-key 'Public key(s) of the auditor who signed the --anchor certificate'
            cand --since 'Check signatures only of records at or after T (RFC 3339, or a duration back from --now: 24h, 7d)'
            cand --until 'Check signatures only of records at or before T (RFC 3339, or a duration back from --now)'
            cand --now 'The instant taken as now (RFC 3339), recorded in certificates; default: the clock'
            cand -j 'Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all cores)'
            cand --jobs 'Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all cores)'
            cand --crypto 'Crypto provider'
            cand --max-findings 'Findings of one code shown in the human report before the rest are only counted'
            cand --max-chains 'Chains (sessions) checked at most; each costs about 1 KiB of memory'
            cand --color 'Colour in the human report'
            cand --require-signatures 'Treat unsigned records as failures'
            cand --require-complete 'Treat an unanchored head or open tail as inconclusive instead of a warning'
            cand -q 'Print nothing but the report (no progress, no notes on stderr)'
            cand --quiet 'Print nothing but the report (no progress, no notes on stderr)'
            cand --no-progress 'Do not show the progress bar'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand verify 'Verify one or more exports (the default command)'
            cand cert 'Check a verification certificate and print what it certifies'
            cand keygen 'Write an auditor''s signing key pair (PKCS#8 private key, SPKI public key)'
            cand merge 'Merge the certificates of consecutive shards of one export into one certificate'
            cand profiles 'List the built-in profiles, or print one as a profile file'
            cand completions 'Print shell completions to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'audit-verify;verify'= {
            cand --keys 'Public keys: PEM SPKI, JWK, JWKS or an aat-verify keystore, or a directory of them'
            cand --input-format 'Container format; default: detected from the content'
            cand --profile 'Input profile: a built-in name or a profile file; default: detected from the records'
            cand --checkpoint 'Signed checkpoint (tree head) to hold the records against; repeatable'
            cand --checkpoint-key 'C2SP verifier key for checkpoint notes, or a file with one per line; repeatable'
            cand --hmac-key-file 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)'
            cand --format 'Report format'
            cand -o 'Write the report to FILE instead of stdout'
            cand --output 'Write the report to FILE instead of stdout'
            cand --certificate 'Write a signed verification certificate (DSSE + in-toto) to OUT; needs --sign-key'
            cand --sign-key 'The auditor''s private key for --certificate (PKCS#8 PEM, P-256 or ML-DSA-65)'
            cand --anchor 'A previous certificate: the export must continue the chain heads it records'
            cand --anchor-key 'Public key(s) of the auditor who signed the --anchor certificate'
            cand --since 'Check signatures only of records at or after T (RFC 3339, or a duration back from --now: 24h, 7d)'
            cand --until 'Check signatures only of records at or before T (RFC 3339, or a duration back from --now)'
            cand --now 'The instant taken as now (RFC 3339), recorded in certificates; default: the clock'
            cand -j 'Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all cores)'
            cand --jobs 'Worker threads for parsing, hashing and signature checks, 1 to 1024 (default, or 0: all cores)'
            cand --crypto 'Crypto provider'
            cand --max-findings 'Findings of one code shown in the human report before the rest are only counted'
            cand --max-chains 'Chains (sessions) checked at most; each costs about 1 KiB of memory'
            cand --color 'Colour in the human report'
            cand --require-signatures 'Treat unsigned records as failures'
            cand --require-complete 'Treat an unanchored head or open tail as inconclusive instead of a warning'
            cand -q 'Print nothing but the report (no progress, no notes on stderr)'
            cand --quiet 'Print nothing but the report (no progress, no notes on stderr)'
            cand --no-progress 'Do not show the progress bar'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'audit-verify;cert'= {
            cand -h 'Print help'
            cand --help 'Print help'
            cand verify 'Authenticate a certificate, print what it certifies, and optionally re-check its inputs'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'audit-verify;cert;verify'= {
            cand --key 'The auditor''s public key(s): PEM SPKI, JWK or JWKS'
            cand --inputs 'Re-check these files against the certificate''s subjects (SHA-256)'
            cand --format 'Output format'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'audit-verify;cert;help'= {
            cand verify 'Authenticate a certificate, print what it certifies, and optionally re-check its inputs'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'audit-verify;cert;help;verify'= {
        }
        &'audit-verify;cert;help;help'= {
        }
        &'audit-verify;keygen'= {
            cand --alg 'Algorithm'
            cand --out 'Directory to write the key pair into (created if absent)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'audit-verify;merge'= {
            cand --key 'Public key(s) that signed the shard certificates'
            cand --certificate 'Where to write the merged certificate'
            cand --sign-key 'The auditor''s private key (PKCS#8 PEM)'
            cand --now 'The instant recorded as verified_at (RFC 3339); default: the clock'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'audit-verify;profiles'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'audit-verify;completions'= {
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'audit-verify;help'= {
            cand verify 'Verify one or more exports (the default command)'
            cand cert 'Check a verification certificate and print what it certifies'
            cand keygen 'Write an auditor''s signing key pair (PKCS#8 private key, SPKI public key)'
            cand merge 'Merge the certificates of consecutive shards of one export into one certificate'
            cand profiles 'List the built-in profiles, or print one as a profile file'
            cand completions 'Print shell completions to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'audit-verify;help;verify'= {
        }
        &'audit-verify;help;cert'= {
            cand verify 'Authenticate a certificate, print what it certifies, and optionally re-check its inputs'
        }
        &'audit-verify;help;cert;verify'= {
        }
        &'audit-verify;help;keygen'= {
        }
        &'audit-verify;help;merge'= {
        }
        &'audit-verify;help;profiles'= {
        }
        &'audit-verify;help;completions'= {
        }
        &'audit-verify;help;help'= {
        }
    ]
    $completions[$command]
}
