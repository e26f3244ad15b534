// Package forgestub is a local HTTP stand-in for the parts of GitHub's
// and GitLab's REST APIs that the hub calls, for tests: reading a pull
// request's head commit and a user's permission on a repository, posting
// an issue comment, posting a merge request note. It records what was posted and checks the tokens.
//
// Start it with New; its URL serves both APIs (GitHub's under /, GitLab's
// under /api/v4). It is safe for concurrent use.
package forgestub

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
)

// Comment is one comment posted to the stub.
type Comment struct {
	// Forge is "github" or "gitlab".
	Forge string
	// Repo is "owner/name" or the GitLab project path.
	Repo   string
	Number int
	Body   string
	// Auth is the token the hub sent.
	Auth string
}

// Stub is a running forge API stand-in.
type Stub struct {
	*httptest.Server
	// GitHubToken and GitLabToken, when set, must be sent by the hub.
	GitHubToken, GitLabToken string

	mu       sync.Mutex
	heads    map[string]string // "owner/name#N" -> sha
	perms    map[string]string // "owner/name@login" -> permission
	permReqs int
	comments []Comment
	fail     int
}

// New starts a stub; Close stops it.
func New() *Stub {
	s := &Stub{heads: map[string]string{}, perms: map[string]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repos/{owner}/{repo}/pulls/{n}", s.pull)
	mux.HandleFunc("POST /repos/{owner}/{repo}/issues/{n}/comments", s.githubComment)
	mux.HandleFunc("GET /repos/{owner}/{repo}/collaborators/{login}/permission", s.permission)
	mux.HandleFunc("POST /api/v4/projects/{project}/merge_requests/{iid}/notes", s.gitlabNote)
	s.Server = httptest.NewServer(mux)
	return s
}

// GitLabAPI is the base URL of the GitLab API of the stub.
func (s *Stub) GitLabAPI() string { return s.URL + "/api/v4" }

// SetHead sets the head commit of a pull request.
func (s *Stub) SetHead(repo string, number int, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.heads[fmt.Sprintf("%s#%d", repo, number)] = sha
}

// SetPermission sets a user's permission on a repository (admin,
// maintain, write, triage, read, none; "" removes it, and the stub
// answers 404 as GitHub does for an unknown user).
func (s *Stub) SetPermission(repo, login, perm string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if perm == "" {
		delete(s.perms, repo+"@"+login)
		return
	}
	s.perms[repo+"@"+login] = perm
}

// PermissionRequests counts the permission lookups the stub answered.
func (s *Stub) PermissionRequests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.permReqs
}

func (s *Stub) permission(w http.ResponseWriter, r *http.Request) {
	if !s.authGitHub(w, r) {
		return
	}
	s.mu.Lock()
	s.permReqs++
	perm, ok := s.perms[r.PathValue("owner")+"/"+r.PathValue("repo")+"@"+r.PathValue("login")]
	s.mu.Unlock()
	if !ok {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	// GitHub's legacy permission field says write for maintain and read
	// for triage; role_name keeps the real one.
	legacy := map[string]string{"maintain": "write", "triage": "read"}[perm]
	json.NewEncoder(w).Encode(map[string]any{"permission": or(legacy, perm), "role_name": perm, "user": map[string]string{"login": r.PathValue("login")}})
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// FailNext makes the next n comment posts answer 502.
func (s *Stub) FailNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = n
}

// Comments returns what was posted, oldest first.
func (s *Stub) Comments() []Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Comment{}, s.comments...)
}

func (s *Stub) pull(w http.ResponseWriter, r *http.Request) {
	if !s.authGitHub(w, r) {
		return
	}
	n, _ := strconv.Atoi(r.PathValue("n"))
	s.mu.Lock()
	sha, ok := s.heads[fmt.Sprintf("%s/%s#%d", r.PathValue("owner"), r.PathValue("repo"), n)]
	s.mu.Unlock()
	if !ok {
		http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"number": n, "state": "open", "head": map[string]string{"sha": sha}})
}

func (s *Stub) authGitHub(w http.ResponseWriter, r *http.Request) bool {
	if s.GitHubToken != "" && r.Header.Get("Authorization") != "Bearer "+s.GitHubToken {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return false
	}
	return true
}

func (s *Stub) record(w http.ResponseWriter, r *http.Request, c Comment) bool {
	var body struct {
		Body string `json:"body"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || strings.TrimSpace(body.Body) == "" {
		http.Error(w, `{"message":"body is required"}`, http.StatusUnprocessableEntity)
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		http.Error(w, `{"message":"bad gateway"}`, http.StatusBadGateway)
		return false
	}
	c.Body = body.Body
	s.comments = append(s.comments, c)
	return true
}

func (s *Stub) githubComment(w http.ResponseWriter, r *http.Request) {
	if !s.authGitHub(w, r) {
		return
	}
	n, _ := strconv.Atoi(r.PathValue("n"))
	repo := r.PathValue("owner") + "/" + r.PathValue("repo")
	if !s.record(w, r, Comment{Forge: "github", Repo: repo, Number: n, Auth: r.Header.Get("Authorization")}) {
		return
	}
	s.mu.Lock()
	id := len(s.comments)
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"id": id, "html_url": fmt.Sprintf("%s/%s/pull/%d#issuecomment-%d", s.URL, repo, n, id)})
}

func (s *Stub) gitlabNote(w http.ResponseWriter, r *http.Request) {
	if s.GitLabToken != "" && r.Header.Get("PRIVATE-TOKEN") != s.GitLabToken {
		http.Error(w, `{"message":"401 Unauthorized"}`, http.StatusUnauthorized)
		return
	}
	n, _ := strconv.Atoi(r.PathValue("iid"))
	if !s.record(w, r, Comment{Forge: "gitlab", Repo: r.PathValue("project"), Number: n, Auth: r.Header.Get("PRIVATE-TOKEN")}) {
		return
	}
	s.mu.Lock()
	id := len(s.comments)
	s.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(map[string]any{"id": id})
}
