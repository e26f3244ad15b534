package client

import (
	"context"
	"os/exec"
	"strings"
	"time"

	"github.com/cgoguard/cgoguard/hub"
)

// DetectContext reads where a run happens from the usual CI variables:
// GitHub Actions, GitLab CI and Jenkins. getenv is os.Getenv in
// production. Fields the CI does not provide stay empty.
//
// The CI is the one whose marker variable is set (GITHUB_ACTIONS=true,
// GITLAB_CI=true, JENKINS_URL); without a marker (a container or a step
// that passes on only some variables), the first of GitHub Actions,
// GitLab CI and Jenkins whose context variables are present. A Jenkins
// GIT_URL is stored as a repository name: its path without ".git", never
// with the credentials a URL may carry (see RepoName).
func DetectContext(getenv func(string) string) hub.Context {
	var c hub.Context
	switch detectCI(getenv) {
	case "github":
		c.CI = "github"
		server := strings.TrimRight(or(getenv("GITHUB_SERVER_URL"), "https://github.com"), "/")
		repo := getenv("GITHUB_REPOSITORY")
		c.Repo = repo
		// A pull request's head branch, else the pushed branch.
		c.Branch = or(getenv("GITHUB_HEAD_REF"), getenv("GITHUB_REF_NAME"))
		c.Commit = getenv("GITHUB_SHA")
		if id := getenv("GITHUB_RUN_ID"); id != "" && repo != "" {
			c.JobURL = server + "/" + repo + "/actions/runs/" + id
			if a := getenv("GITHUB_RUN_ATTEMPT"); a != "" && a != "1" {
				c.JobURL += "/attempts/" + a
			}
		}
	case "gitlab":
		c.CI = "gitlab"
		c.Repo = getenv("CI_PROJECT_PATH")
		c.Branch = or(getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"), getenv("CI_COMMIT_BRANCH"), getenv("CI_COMMIT_REF_NAME"))
		c.Commit = getenv("CI_COMMIT_SHA")
		c.JobURL = getenv("CI_JOB_URL")
	case "jenkins":
		c.CI = "jenkins"
		c.Repo = RepoName(getenv("GIT_URL"))
		c.Branch = strings.TrimPrefix(or(getenv("CHANGE_BRANCH"), getenv("BRANCH_NAME"), getenv("GIT_BRANCH")), "origin/")
		c.Commit = getenv("GIT_COMMIT")
		c.JobURL = stripCredentials(getenv("BUILD_URL"))
	}
	return c
}

// ciVars are, per CI, the variables that give a run's context: any one of
// them set names the CI when its marker variable is absent.
var ciVars = []struct {
	ci, marker string
	vars       []string
}{
	{"github", "GITHUB_ACTIONS", []string{"GITHUB_REPOSITORY", "GITHUB_SHA", "GITHUB_RUN_ID", "GITHUB_REF_NAME", "GITHUB_HEAD_REF"}},
	{"gitlab", "GITLAB_CI", []string{"CI_PROJECT_PATH", "CI_COMMIT_SHA", "CI_JOB_URL", "CI_COMMIT_REF_NAME", "CI_COMMIT_BRANCH", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"}},
	{"jenkins", "JENKINS_URL", []string{"GIT_URL", "GIT_COMMIT", "BUILD_URL", "GIT_BRANCH", "CHANGE_BRANCH"}},
}

// detectCI names the CI a run happens in, or "".
func detectCI(getenv func(string) string) string {
	for _, ci := range ciVars {
		if v := getenv(ci.marker); v != "" && (ci.ci == "jenkins" || v == "true") {
			return ci.ci
		}
	}
	for _, ci := range ciVars {
		for _, v := range ci.vars {
			if getenv(v) != "" {
				return ci.ci
			}
		}
	}
	return ""
}

// RepoName turns a git remote URL into the repository name the hub
// stores: the path without a leading slash and without ".git", so that
// https://user:token@git.example/org/svc.git, git@git.example:org/svc.git
// and ssh://git@git.example/org/svc all give "org/svc" (the form of
// GITHUB_REPOSITORY and CI_PROJECT_PATH). Credentials never survive. A
// value that is not a URL is returned without its credentials.
func RepoName(remote string) string {
	remote = strings.TrimSpace(remote)
	if remote == "" {
		return ""
	}
	var path string
	if i := strings.Index(remote, "://"); i >= 0 {
		rest := remote[i+3:]
		slash := strings.Index(rest, "/")
		if slash < 0 {
			return stripCredentials(remote)
		}
		path = rest[slash+1:]
	} else if host, p, ok := strings.Cut(remote, ":"); ok && !strings.Contains(host, "/") && p != "" {
		// scp-like: [user@]host:path
		path = p
	} else {
		return stripCredentials(remote)
	}
	path, _, _ = strings.Cut(path, "?")
	path, _, _ = strings.Cut(path, "#")
	path = strings.TrimSuffix(strings.Trim(path, "/"), ".git")
	path = strings.TrimSuffix(path, "/")
	if path == "" {
		return stripCredentials(remote)
	}
	return path
}

// FillFromGit fills the empty Repo, Branch and Commit of c from the git
// checkout at dir (the origin remote as RepoName gives it, the current
// branch, HEAD). Outside a checkout, or without git, c is left as it is.
func FillFromGit(ctx context.Context, c *hub.Context, dir string) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	if c.Repo == "" {
		c.Repo = RepoName(git("config", "--get", "remote.origin.url"))
	}
	if c.Branch == "" {
		if b := git("rev-parse", "--abbrev-ref", "HEAD"); b != "HEAD" {
			c.Branch = b
		}
	}
	if c.Commit == "" {
		c.Commit = git("rev-parse", "HEAD")
	}
}

// stripCredentials removes a user:password from a URL's authority.
func stripCredentials(u string) string {
	scheme := strings.Index(u, "://")
	if scheme < 0 {
		return u
	}
	auth := u[scheme+3:]
	if end := strings.IndexAny(auth, "/?#"); end >= 0 {
		auth = auth[:end]
	}
	if at := strings.LastIndex(auth, "@"); at >= 0 {
		return u[:scheme+3] + u[scheme+3+at+1:]
	}
	return u
}

func or(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
