"""A stand-in for the GitHub REST calls that fsspec's ``github`` protocol (and
genro-storage's github backend) make, answered from real git repositories
through pygit2. NOT a GitHub server: api.github.com is unreachable from the
test machines, so the github backend is tested against this.

    .venv/bin/python scripts/github_api_stub.py --template REPO --state DIR --port PORT

Binds 127.0.0.1 only. Every ``{org}/{repo}`` a client names gets its own bare
clone of the template repository under ``DIR/{org}/{repo}.git`` on first use,
so tests isolate themselves by picking a fresh repo name; writes commit there.
Repo names starting with ``missing`` answer 404, like a repository that does
not exist.

    GET    /repos/{o}/{r}                          {"default_branch", "name", ...}
    GET    /repos/{o}/{r}/branches | /tags         [{"name", "commit": {"sha"}}]
    GET    /repos/{o}/{r}/git/trees/{ref-or-sha}   {"sha", "tree": [...]} (one level)
    GET    /repos/{o}/{r}/contents/{path}?ref=R    file: {"content": base64, "sha",
                                                   "size", "download_url"}; files over
                                                   1 MiB answer content "" like GitHub;
                                                   directory: a list of entries
    PUT    /repos/{o}/{r}/contents/{path}          {"message", "content" (base64),
                                                   "sha" (to update), "branch"}: commits
    DELETE /repos/{o}/{r}/contents/{path}          {"message", "sha", "branch"}: commits
    GET    /raw/{o}/{r}/{ref}/{path}               the bytes (the download_url)
    GET    /orgs/{o}/repos, /users/{o}/repos       [{"name"}] of the repos made so far

PUT and DELETE need an Authorization header (any value), as on GitHub.

fsspec hard-codes https://api.github.com; tests/services.py has
``github_stub_filesystem_class(api_base)`` that points a GithubFileSystem
subclass here (docs/services.md explains the trick).
"""

import argparse
import base64
import json
import os
import re
import urllib.parse
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pygit2

BIG = 1024 * 1024
NAME_RE = re.compile(r"^[A-Za-z0-9_.-]+$")
ARGS = argparse.Namespace()


class HTTPError(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status
        self.message = message


def repo_for(org, name):
    """The bare repository for org/name, cloned from the template on first use."""
    if not (NAME_RE.match(org) and NAME_RE.match(name)) or {org, name} & {".", ".."}:
        raise HTTPError("404 Not Found", "Not Found")
    if name.startswith("missing"):
        raise HTTPError("404 Not Found", "Not Found")
    path = os.path.join(ARGS.state, org, name + ".git")
    if not os.path.isdir(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        pygit2.clone_repository(ARGS.template, path, bare=True)
    return pygit2.Repository(path)


def default_branch(repo):
    return repo.head.shorthand


def resolve_tree(repo, ref):
    try:
        obj = repo.revparse_single(ref)
    except (KeyError, ValueError):
        raise HTTPError("404 Not Found", f"No commit found for the ref {ref}") from None
    return obj if isinstance(obj, pygit2.Tree) else obj.peel(pygit2.Tree)


def entry_at(repo, tree, path):
    obj = tree
    for part in [p for p in path.split("/") if p]:
        if not isinstance(obj, pygit2.Tree) or part not in obj:
            raise HTTPError("404 Not Found", "Not Found")
        obj = repo[obj[part].id]
    return obj


def branch_ref(repo, branch):
    name = f"refs/heads/{branch}"
    if name not in repo.references:
        raise HTTPError("404 Not Found", f"Branch {branch} not found")
    return repo.references[name]


def commit_change(repo, branch, path, message, blob_id=None):
    """Commit path = blob_id (or its removal when None) on branch; return the commit id."""
    ref = branch_ref(repo, branch)
    parent = repo[ref.target]
    index = pygit2.Index()
    index.read_tree(parent.tree)
    if blob_id is None:
        index.remove(path)
    else:
        index.add(pygit2.IndexEntry(path, blob_id, pygit2.enums.FileMode.BLOB))
    tree_id = index.write_tree(repo)
    sig = pygit2.Signature("stub", "stub@example.invalid")
    return repo.create_commit(ref.name, sig, sig, message, tree_id, [parent.id])


def reply(start, status, body, ctype="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    start(status, [("Content-Type", ctype), ("Content-Length", str(len(data)))])
    return [data]


def read_json(environ):
    raw = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        raise HTTPError("400 Bad Request", "Problems parsing JSON") from None


def contents(environ, repo, org, name, path, query):
    method = environ["REQUEST_METHOD"]
    base = f"http://127.0.0.1:{ARGS.port}"
    if method == "GET":
        ref = query.get("ref") or default_branch(repo)
        obj = entry_at(repo, resolve_tree(repo, ref), path)
        if isinstance(obj, pygit2.Tree):
            items = []
            for e in obj:
                sub = f"{path}/{e.name}" if path else e.name
                kind = "dir" if e.type_str == "tree" else "file"
                size = repo[e.id].size if kind == "file" else 0
                items.append(
                    {"type": kind, "name": e.name, "path": sub, "sha": str(e.id), "size": size}
                )
            return "200 OK", items
        small = obj.size <= BIG
        return "200 OK", {
            "type": "file",
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": str(obj.id),
            "size": obj.size,
            "content": base64.b64encode(obj.data).decode() if small else "",
            "encoding": "base64" if small else "none",
            "download_url": "/".join(
                (base, "raw", org, name, urllib.parse.quote(ref), urllib.parse.quote(path))
            ),
        }
    if method not in ("PUT", "DELETE"):
        raise HTTPError("405 Method Not Allowed", "Method Not Allowed")
    if not environ.get("HTTP_AUTHORIZATION"):
        raise HTTPError("401 Unauthorized", "Requires authentication")
    body = read_json(environ)
    branch = body.get("branch") or default_branch(repo)
    tree = repo[branch_ref(repo, branch).target].tree
    try:
        current = str(entry_at(repo, tree, path).id)
    except HTTPError:
        current = None
    if method == "DELETE":
        if current is None:
            raise HTTPError("404 Not Found", "Not Found")
        if body.get("sha") != current:
            raise HTTPError("409 Conflict", f"{path} does not match {body.get('sha')}")
        commit = commit_change(repo, branch, path, body.get("message") or f"Delete {path}")
        return "200 OK", {"content": None, "commit": {"sha": str(commit)}}
    # PUT: create, or update when the caller names the current blob sha
    if current is not None and body.get("sha") != current:
        if not body.get("sha"):
            raise HTTPError("422 Unprocessable Entity", '"sha" wasn\'t supplied.')
        raise HTTPError("409 Conflict", f"{path} does not match {body.get('sha')}")
    try:
        data = base64.b64decode(body.get("content") or "", validate=True)
    except ValueError:
        raise HTTPError("422 Unprocessable Entity", "content is not valid Base64") from None
    blob_id = repo.create_blob(data)
    commit = commit_change(repo, branch, path, body.get("message") or f"Update {path}", blob_id)
    status = "200 OK" if current is not None else "201 Created"
    return status, {
        "content": {
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": str(blob_id),
            "size": len(data),
        },
        "commit": {"sha": str(commit)},
    }


def route(environ):
    method = environ["REQUEST_METHOD"]
    # PEP 3333: PATH_INFO arrives percent-decoded, its bytes as latin-1; names are UTF-8
    path_info = environ["PATH_INFO"].encode("latin-1").decode("utf-8", "replace")
    parts = [p for p in path_info.split("/") if p]
    query = dict(urllib.parse.parse_qsl(environ.get("QUERY_STRING", "")))
    if parts[:1] == ["raw"] and len(parts) >= 5 and method == "GET":
        repo = repo_for(parts[1], parts[2])
        blob = entry_at(repo, resolve_tree(repo, parts[3]), "/".join(parts[4:]))
        if not isinstance(blob, pygit2.Blob):
            raise HTTPError("404 Not Found", "Not Found")
        return "200 OK", blob.data
    if parts[:1] in (["orgs"], ["users"]) and parts[2:] == ["repos"] and method == "GET":
        org_dir = os.path.join(ARGS.state, parts[1])
        names = sorted(n[:-4] for n in os.listdir(org_dir)) if os.path.isdir(org_dir) else []
        return "200 OK", [{"name": n, "full_name": f"{parts[1]}/{n}"} for n in names]
    if parts[:1] != ["repos"] or len(parts) < 3:
        raise HTTPError("404 Not Found", "Not Found")
    org, name, rest = parts[1], parts[2], parts[3:]
    repo = repo_for(org, name)
    if rest[:1] == ["contents"]:
        return contents(environ, repo, org, name, "/".join(rest[1:]), query)
    if method != "GET":
        raise HTTPError("405 Method Not Allowed", "Method Not Allowed")
    if not rest:
        return "200 OK", {
            "name": name,
            "full_name": f"{org}/{name}",
            "default_branch": default_branch(repo),
            "private": False,
        }
    if rest in (["branches"], ["tags"]):
        prefix = "refs/heads/" if rest == ["branches"] else "refs/tags/"
        out = []
        for ref_name in sorted(r for r in repo.references if r.startswith(prefix)):
            commit = repo.references[ref_name].peel(pygit2.Commit)
            out.append({"name": ref_name[len(prefix) :], "commit": {"sha": str(commit.id)}})
        return "200 OK", out
    if rest[:2] == ["git", "trees"] and len(rest) == 3:
        tree = resolve_tree(repo, rest[2])
        out = []
        for e in tree:
            if e.type_str not in ("tree", "blob"):
                continue  # submodules
            item = {
                "path": e.name,
                "mode": oct(e.filemode)[2:].zfill(6),
                "type": e.type_str,
                "sha": str(e.id),
            }
            if e.type_str == "blob":
                item["size"] = repo[e.id].size
            out.append(item)
        return "200 OK", {"sha": str(tree.id), "tree": out, "truncated": False}
    raise HTTPError("404 Not Found", "Not Found")


def app(environ, start):
    try:
        status, body = route(environ)
    except HTTPError as e:
        return reply(start, e.status, {"message": e.message})
    if isinstance(body, bytes):
        return reply(start, status, body, "application/octet-stream")
    return reply(start, status, body)


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--template", required=True, help="git repository every repo starts from")
    parser.add_argument("--state", required=True, help="directory for the per-repo bare clones")
    parser.add_argument("--port", type=int, required=True)
    parser.parse_args(namespace=ARGS)
    ARGS.template = os.path.abspath(ARGS.template)
    ARGS.state = os.path.abspath(ARGS.state)
    make_server("127.0.0.1", ARGS.port, app, handler_class=QuietHandler).serve_forever()


if __name__ == "__main__":
    main()
