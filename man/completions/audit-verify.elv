
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
            cand --hmac-key-file 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)'
            cand --format 'Report format'
            cand -o 'Write the report to FILE instead of stdout'
            cand --output 'Write the report to FILE instead of stdout'
            cand -j 'Worker threads for parsing, hashing and signature checks (default: all cores)'
            cand --jobs 'Worker threads for parsing, hashing and signature checks (default: all cores)'
            cand --crypto 'Crypto provider'
            cand --max-findings 'Findings of one code shown in the human report before the rest are only counted'
            cand --color 'Colour in the human report'
            cand --require-signatures 'Treat unsigned records as failures'
            cand --require-complete 'Treat an unanchored head or open tail as inconclusive instead of a warning'
            cand -q 'Print nothing but the report (no progress, no notes on stderr)'
            cand --quiet 'Print nothing but the report (no progress, no notes on stderr)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand verify 'Verify one or more exports (the default command)'
            cand profiles 'List the built-in profiles, or print one as a profile file'
            cand completions 'Print shell completions to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'audit-verify;verify'= {
            cand --keys 'Public keys: PEM SPKI, JWK, JWKS or an aat-verify keystore, or a directory of them'
            cand --input-format 'Container format; default: detected from the content'
            cand --profile 'Input profile: a built-in name or a profile file; default: detected from the records'
            cand --hmac-key-file 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)'
            cand --format 'Report format'
            cand -o 'Write the report to FILE instead of stdout'
            cand --output 'Write the report to FILE instead of stdout'
            cand -j 'Worker threads for parsing, hashing and signature checks (default: all cores)'
            cand --jobs 'Worker threads for parsing, hashing and signature checks (default: all cores)'
            cand --crypto 'Crypto provider'
            cand --max-findings 'Findings of one code shown in the human report before the rest are only counted'
            cand --color 'Colour in the human report'
            cand --require-signatures 'Treat unsigned records as failures'
            cand --require-complete 'Treat an unanchored head or open tail as inconclusive instead of a warning'
            cand -q 'Print nothing but the report (no progress, no notes on stderr)'
            cand --quiet 'Print nothing but the report (no progress, no notes on stderr)'
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
            cand profiles 'List the built-in profiles, or print one as a profile file'
            cand completions 'Print shell completions to stdout'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'audit-verify;help;verify'= {
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
