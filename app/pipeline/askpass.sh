#!/bin/sh
# Git's GIT_ASKPASS: answers the credential prompts from variables only git's
# own process has (app/pipeline/git.py), so the token is never in a URL, an
# argument list, .git/config or a build's environment.
case "$1" in
  Username*) printf '%s\n' "$SLIPWAY_GIT_USERNAME" ;;
  *) printf '%s\n' "$SLIPWAY_GIT_PASSWORD" ;;
esac
