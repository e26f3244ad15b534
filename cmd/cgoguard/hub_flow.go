package main

import (
	"flag"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/hub"
	"github.com/cgoguard/cgoguard/hub/server"
)

// Environment variables of the hub's forge settings: secrets stay out of
// the command line (and so out of ps).
const (
	envGitHubSecret = "CGOGUARD_GITHUB_WEBHOOK_SECRET"
	envGitLabSecret = "CGOGUARD_GITLAB_WEBHOOK_TOKEN"
	envGitHubToken  = "CGOGUARD_GITHUB_TOKEN"
	envGitLabToken  = "CGOGUARD_GITLAB_TOKEN"
)

// flowFlags are the flags of `cgoguard hub` for checklist reviews, value
// cards, webhooks and agents.
type flowFlags struct {
	githubSecretFile, gitlabTokenFile string
	githubAPI, gitlabAPI              string
	allow                             multiFlag
	defaultChecklist                  string
	publicURL                         string
	cardRules                         string
	leaseTTL                          time.Duration
	maxAttempts                       int
}

func addFlowFlags(fs *flag.FlagSet) *flowFlags {
	f := &flowFlags{}
	fs.StringVar(&f.githubSecretFile, "github-secret-file", "", "`FILE` holding the GitHub webhook secret (or $"+envGitHubSecret+"); enables POST /api/v1/hooks/github")
	fs.StringVar(&f.gitlabTokenFile, "gitlab-token-file", "", "`FILE` holding the GitLab webhook secret token (or $"+envGitLabSecret+"); enables POST /api/v1/hooks/gitlab")
	fs.Var(&f.allow, "allow-repo", "let `FORGE:REPO[=CHECKLIST]` queue runs with /checklist run comments, e.g. github:org/svc or gitlab:group/svc=team-list (repeatable)")
	fs.StringVar(&f.defaultChecklist, "default-checklist", server.DefaultChecklist, "`NAME` of the checklist a run request uses when its --allow-repo names none")
	fs.StringVar(&f.githubAPI, "github-api", server.DefaultGitHubAPI, "GitHub API base `URL` (token from $"+envGitHubToken+")")
	fs.StringVar(&f.gitlabAPI, "gitlab-api", server.DefaultGitLabAPI, "GitLab API base `URL` (token from $"+envGitLabToken+")")
	fs.StringVar(&f.publicURL, "public-url", "", "the hub's `URL` as people reach it, for links in pull request comments")
	fs.StringVar(&f.cardRules, "card-rules", "", "YAML `FILE` of value card rules and thresholds (default: the documented defaults)")
	fs.DurationVar(&f.leaseTTL, "lease-ttl", server.DefaultLeaseTTL, "how long an agent's lease lasts without renewal")
	fs.IntVar(&f.maxAttempts, "max-attempts", server.DefaultMaxAttempts, "leases one run request gets before it is failed")
	return f
}

func secret(file, env string) (string, error) {
	if file == "" {
		return os.Getenv(env), nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", file)
	}
	return s, nil
}

// options turns the flags into server options.
func (f *flowFlags) options() ([]server.Option, error) {
	gh, err := secret(f.githubSecretFile, envGitHubSecret)
	if err != nil {
		return nil, fmt.Errorf("--github-secret-file: %w", err)
	}
	gl, err := secret(f.gitlabTokenFile, envGitLabSecret)
	if err != nil {
		return nil, fmt.Errorf("--gitlab-token-file: %w", err)
	}
	var rules []server.RepoRule
	for _, a := range f.allow {
		r, err := server.ParseRepoRule(a)
		if err != nil {
			return nil, fmt.Errorf("--allow-repo: %w", err)
		}
		rules = append(rules, r)
	}
	cards := hub.DefaultCardRules()
	if f.cardRules != "" {
		if cards, err = hub.LoadCardRules(f.cardRules); err != nil {
			return nil, fmt.Errorf("--card-rules: %w", err)
		}
	}
	if f.leaseTTL < time.Second {
		return nil, fmt.Errorf("--lease-ttl %s is shorter than a second", f.leaseTTL)
	}
	if f.maxAttempts < 1 {
		return nil, fmt.Errorf("--max-attempts must be at least 1")
	}
	return []server.Option{
		server.WithGitHubWebhook(gh), server.WithGitLabWebhook(gl), server.WithRepos(rules...),
		server.WithDefaultChecklist(f.defaultChecklist),
		server.WithForge(hub.ForgeGitHub, server.Forge{APIURL: f.githubAPI, Token: os.Getenv(envGitHubToken)}),
		server.WithForge(hub.ForgeGitLab, server.Forge{APIURL: f.gitlabAPI, Token: os.Getenv(envGitLabToken)}),
		server.WithPublicURL(f.publicURL), server.WithCardRules(cards), server.WithLeases(f.leaseTTL, f.maxAttempts),
	}, nil
}

// cliActor is who the hub token command acts as in the audit log.
func cliActor() hub.Actor {
	name := "cli"
	if u, err := user.Current(); err == nil {
		name += ":" + u.Username
	}
	host, _ := os.Hostname()
	return hub.Actor{Name: name, From: "local " + host}
}
