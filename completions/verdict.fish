# verdict.fish - fish completion for verdict: commands, options, report
# formats, files, and after --only the check names and tags of the suite
# on the command line (read from the file as it is: no ${VAR} expansion,
# no validation). Installed as
# /usr/share/fish/vendor_completions.d/verdict.fish.

# the check names and tags of the suite file on the command line
function __verdict_suite_names
    set -l suite
    for w in (commandline -opc)[3..-1]
        if not string match -q -- '-*' $w; and test -f $w
            set suite $w
        end
    end
    test -n "$suite"; or return
    awk '
    { # comments: /* ... */ (across lines too), then // after a blank
      l = $0; o = ""
      while (l != "") {
        if (inc) { e = index(l, "*/"); if (!e) { l = ""; break }; l = substr(l, e + 2); inc = 0 }
        b = index(l, "/*"); if (!b) break
        o = o substr(l, 1, b - 1); l = substr(l, b + 2); inc = 1
      }
      $0 = o l; sub(/(^|[ \t])\/\/.*$/, "") }
    /"checks"[ \t]*:/ { c = 1 }
    !c { next }
    {
        s = $0
        while (match(s, /"name"[ \t]*:[ \t]*"[^"]*"/)) {
            v = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
            sub(/^"name"[ \t]*:[ \t]*"/, "", v); sub(/"$/, "", v); print v
        }
        s = $0
        while (match(s, /"tags"[ \t]*:[ \t]*\[[^]]*\]/)) {
            v = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
            sub(/^[^[]*\[/, "", v); sub(/\]$/, "", v)
            n = split(v, t, /"[ \t]*,[ \t]*"/)
            for (i = 1; i <= n; i++) { gsub(/^[ \t]*"|"[ \t]*$/, "", t[i]); if (t[i] != "") print t[i] }
        }
    }' $suite 2>/dev/null | sort -u
end

set -l cmds run validate serve types init deploy rollback history status
complete -c verdict -f
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -a run -d 'run a suite and print a report'
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -a validate -d 'check suite files without probing'
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -a serve -d 'serve /metrics and /probe'
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -a types -d 'list the check types'
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -a init -d 'write a starter suite for a URL'
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -a deploy -d 'deploy, gate, promote or roll back'
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -a rollback -d 'roll back to the known-good version'
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -a history -d 'the deployments of an environment'
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -a status -d 'known-good and current deployments'
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -l help -d 'print help'
complete -c verdict -n "not __fish_seen_subcommand_from $cmds" -l version -d 'print the version'

# run
complete -c verdict -n '__fish_seen_subcommand_from run' -s f -l format -x -a 'text json junit tap markdown' -d 'report format'
complete -c verdict -n '__fish_seen_subcommand_from run' -s o -l output -r -F -d 'write the report to FILE too'
complete -c verdict -n '__fish_seen_subcommand_from run' -l report -x -a 'text= json= junit= tap= markdown=' -d 'also write FORMAT=FILE'
complete -c verdict -n '__fish_seen_subcommand_from run' -l only -x -a '(__verdict_suite_names)' -d 'check name or tag'
complete -c verdict -n '__fish_seen_subcommand_from run' -s c -l concurrency -x -d 'checks in flight at most'
complete -c verdict -n '__fish_seen_subcommand_from run' -s q -l quiet -d 'only checks that did not pass'
complete -c verdict -n '__fish_seen_subcommand_from run' -s v -l verbose -d 'reasons and targets of every check'
complete -c verdict -n '__fish_seen_subcommand_from run' -l progress -x -a 'auto tty plain none' -d 'progress on stderr'
complete -c verdict -n '__fish_seen_subcommand_from run validate serve' -k -a '(__fish_complete_suffix .json)'
# init
complete -c verdict -n '__fish_seen_subcommand_from init' -l ca-file -r -F -d 'trust this CA for the URL'
complete -c verdict -n '__fish_seen_subcommand_from init' -l name -x -d 'the suite name'
complete -c verdict -n '__fish_seen_subcommand_from init' -l timeout -x -d 'deadline of each check'
# serve
complete -c verdict -n '__fish_seen_subcommand_from serve' -s l -l listen -x -d 'listen address ADDR:PORT'
complete -c verdict -n '__fish_seen_subcommand_from serve' -l check-config -d 'validate the config only'
# deploy, rollback, history, status
complete -c verdict -n '__fish_seen_subcommand_from deploy rollback history status' -s c -l config -r -F -d 'the deploy config'
complete -c verdict -n '__fish_seen_subcommand_from deploy rollback history status' -s f -l format -x -a 'text json' -d 'output format'
complete -c verdict -n '__fish_seen_subcommand_from deploy rollback' -s o -l report -r -F -d 'write the JSON report to FILE too'
complete -c verdict -n '__fish_seen_subcommand_from deploy rollback' -s q -l quiet -d 'no progress lines'
complete -c verdict -n '__fish_seen_subcommand_from deploy rollback' -l progress -x -a 'auto tty plain none' -d 'progress on stderr'
complete -c verdict -n '__fish_seen_subcommand_from deploy' -s V -l version -x -d 'the version to deploy'
complete -c verdict -n '__fish_seen_subcommand_from deploy' -l check -d 'validate the config only'
complete -c verdict -n '__fish_seen_subcommand_from rollback' -l to -x -d 'the version to return to'
complete -c verdict -n '__fish_seen_subcommand_from history' -s n -l limit -x -d 'the last N deployments'
complete -c verdict -n "__fish_seen_subcommand_from $cmds" -s h -l help -d 'print help'
