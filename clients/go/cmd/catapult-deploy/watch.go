package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/warlockee/catapult/clients/go/catapult"
)

// errCounted ends a watch that printed --count changes.
var errCounted = errors.New("printed --count changes")

func runWatch(ctx context.Context, inv *invocation) error {
	// Ctrl-C and SIGTERM end the watch as a success: it says where it stopped.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	filter := catapult.DeploymentWatchFilter{
		Cursor: inv.cursor, Environment: inv.environment, EndpointURL: inv.endpoint, Model: inv.model,
		ReleaseID: inv.releaseID, Company: inv.company, Cluster: inv.cluster, Namespace: inv.namespace,
		Status: inv.deployStatus, ActiveOnly: inv.activeOnly, Digest: inv.digest, ReleaseStatus: inv.releaseStatus,
	}
	printed := 0
	last := inv.cursor
	err := inv.client.WatchDeployments(ctx, filter, func(e catapult.Event) error {
		last = e.GetCursor()
		if err := inv.printEvent(e); err != nil {
			return err
		}
		printed++
		if inv.count > 0 && printed >= inv.count {
			return errCounted
		}
		return nil
	}, catapult.OnWatchConnect(func(resumed bool) {
		if resumed {
			inv.say("watching again%s", after(last))
		} else {
			inv.say("watching deployments%s%s; Ctrl-C stops", watchedFilter(filter), after(last))
		}
	}), catapult.OnWatchResume(func(err error, cursor string, wait time.Duration) {
		last = cursor
		why := strings.TrimSuffix(describe(err, inv.addr), " (retry later)")
		inv.say("the stream ended (%s); resuming%s in %s", why, after(cursor), wait.Round(time.Millisecond))
	}))
	if errors.Is(err, errCounted) || (ctx.Err() != nil && errors.Is(err, ctx.Err())) {
		err = nil
	}
	if err == nil {
		resume := ""
		if last != "" {
			resume = fmt.Sprintf("; --cursor %s resumes after it", last)
		}
		inv.say("stopped after %d change(s)%s", printed, resume)
	}
	return err
}

// after is " after cursor C", or " from now" without a cursor.
func after(cursor string) string {
	if cursor == "" {
		return " from now"
	}
	return " after cursor " + cursor
}

// watchedFilter is " (environment production, model m)": the filters given.
func watchedFilter(f catapult.DeploymentWatchFilter) string {
	var parts []string
	for _, p := range []struct{ name, value string }{
		{"environment", f.Environment}, {"endpoint", f.EndpointURL}, {"model", f.Model},
		{"release", f.ReleaseID}, {"company", f.Company}, {"cluster", f.Cluster}, {"namespace", f.Namespace},
		{"status", f.Status}, {"digest", f.Digest}, {"release status", f.ReleaseStatus},
	} {
		if p.value != "" {
			parts = append(parts, p.name+" "+p.value)
		}
	}
	if f.ActiveOnly {
		parts = append(parts, "live or leaving")
	}
	if len(parts) == 0 {
		return " (all)"
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// printEvent prints one change: a tab-separated line, the deployment's id (--output id), or the
// event as one line of JSON (--output json).
func (inv *invocation) printEvent(e catapult.Event) error {
	d := e.GetDeployment()
	switch inv.output {
	case "json":
		raw, err := jsonOptions.Marshal(e)
		if err != nil {
			return err
		}
		var line bytes.Buffer
		if err := json.Compact(&line, raw); err != nil {
			return err
		}
		line.WriteByte('\n')
		_, err = inv.stdout.Write(line.Bytes())
		return err
	case "id":
		_, err := fmt.Fprintln(inv.stdout, d.GetId())
		return err
	}
	cells := []string{formatTime(e.GetTime()), e.GetType(), d.GetId(), d.GetStatus(), d.GetEnvironment(),
		d.GetCluster(), d.GetEndpointUrl(), d.GetModelName(), d.GetReleaseVersion(), d.GetQuantization(),
		d.GetReleaseDigest(), e.GetCursor()}
	for i, c := range cells {
		if c == "" {
			cells[i] = "-"
		}
	}
	_, err := fmt.Fprintln(inv.stdout, strings.Join(cells, "\t"))
	return err
}
