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
func DetectContext(getenv func(string) string) hub.Context {
	var c hub.Context
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
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
	case getenv("GITLAB_CI") == "true":
		c.CI = "gitlab"
		c.Repo = getenv("CI_PROJECT_PATH")
		c.Branch = or(getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"), getenv("CI_COMMIT_BRANCH"), getenv("CI_COMMIT_REF_NAME"))
		c.Commit = getenv("CI_COMMIT_SHA")
		c.JobURL = getenv("CI_JOB_URL")
	case getenv("JENKINS_URL") != "":
		c.CI = "jenkins"
		c.Repo = getenv("GIT_URL")
		c.Branch = strings.TrimPrefix(or(getenv("CHANGE_BRANCH"), getenv("BRANCH_NAME"), getenv("GIT_BRANCH")), "origin/")
		c.Commit = getenv("GIT_COMMIT")
		c.JobURL = getenv("BUILD_URL")
	}
	return c
}

// FillFromGit fills the empty Repo, Branch and Commit of c from the git
// checkout at dir (the origin remote, the current branch, HEAD). Outside a
// checkout, or without git, c is left as it is.
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
		c.Repo = stripCredentials(git("config", "--get", "remote.origin.url"))
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

// stripCredentials removes a user:password from a remote URL.
func stripCredentials(u string) string {
	scheme := strings.Index(u, "://")
	at := strings.LastIndex(u, "@")
	if scheme >= 0 && at > scheme {
		return u[:scheme+3] + u[at+1:]
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
