
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
            [CompletionResult]::new('--hmac-key-file', '--hmac-key-file', [CompletionResultType]::ParameterName, 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of stdout')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads for parsing, hashing and signature checks (default: all cores)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads for parsing, hashing and signature checks (default: all cores)')
            [CompletionResult]::new('--crypto', '--crypto', [CompletionResultType]::ParameterName, 'Crypto provider')
            [CompletionResult]::new('--max-findings', '--max-findings', [CompletionResultType]::ParameterName, 'Findings of one code shown in the human report before the rest are only counted')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in the human report')
            [CompletionResult]::new('--require-signatures', '--require-signatures', [CompletionResultType]::ParameterName, 'Treat unsigned records as failures')
            [CompletionResult]::new('--require-complete', '--require-complete', [CompletionResultType]::ParameterName, 'Treat an unanchored head or open tail as inconclusive instead of a warning')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the report (no progress, no notes on stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the report (no progress, no notes on stderr)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Verify one or more exports (the default command)')
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the built-in profiles, or print one as a profile file')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'audit-verify;verify' {
            [CompletionResult]::new('--keys', '--keys', [CompletionResultType]::ParameterName, 'Public keys: PEM SPKI, JWK, JWKS or an aat-verify keystore, or a directory of them')
            [CompletionResult]::new('--input-format', '--input-format', [CompletionResultType]::ParameterName, 'Container format; default: detected from the content')
            [CompletionResult]::new('--profile', '--profile', [CompletionResultType]::ParameterName, 'Input profile: a built-in name or a profile file; default: detected from the records')
            [CompletionResult]::new('--hmac-key-file', '--hmac-key-file', [CompletionResultType]::ParameterName, 'File holding the HMAC secret of HMAC-chained formats (AGT FileAuditSink)')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Report format')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of stdout')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Write the report to FILE instead of stdout')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Worker threads for parsing, hashing and signature checks (default: all cores)')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Worker threads for parsing, hashing and signature checks (default: all cores)')
            [CompletionResult]::new('--crypto', '--crypto', [CompletionResultType]::ParameterName, 'Crypto provider')
            [CompletionResult]::new('--max-findings', '--max-findings', [CompletionResultType]::ParameterName, 'Findings of one code shown in the human report before the rest are only counted')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'Colour in the human report')
            [CompletionResult]::new('--require-signatures', '--require-signatures', [CompletionResultType]::ParameterName, 'Treat unsigned records as failures')
            [CompletionResult]::new('--require-complete', '--require-complete', [CompletionResultType]::ParameterName, 'Treat an unanchored head or open tail as inconclusive instead of a warning')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing but the report (no progress, no notes on stderr)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing but the report (no progress, no notes on stderr)')
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
            [CompletionResult]::new('profiles', 'profiles', [CompletionResultType]::ParameterValue, 'List the built-in profiles, or print one as a profile file')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print shell completions to stdout')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'audit-verify;help;verify' {
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
