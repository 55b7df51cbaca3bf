#!/usr/bin/env bash
# Installs the external SPARQL stores that `make test-stores` starts, if they are missing.
# Idempotent; run as root. It installs files only: it starts no server and registers no service
# (the tests start each store on 127.0.0.1 with a throwaway database and stop it afterwards).
#
#   Virtuoso  Debian's virtuoso-opensource-7-bin (7.2.5): the server binary virtuoso-t and isql-vt.
#             Not the virtuoso-opensource(-7) package, which adds a system service that starts a
#             permanent server on ports 1111/8890 and asks for a DBA password through debconf.
#   Fuseki    the self-contained jar of Apache Jena Fuseki (org.apache.jena:jena-fuseki-server 5.6.0,
#             the last release for Java 17) from Maven Central, into $FUSEKI_DIR; needs `mvn` and
#             Maven Central. Where Maven Central cannot be reached this step fails and says so;
#             then run `make test-stores STORES=virtuoso`.
#
# Usage: bash tests/setup-stores.sh [virtuoso] [fuseki]   (both when none is named)
set -u
FUSEKI_VERSION=5.6.0
FUSEKI_DIR=${FUSEKI_DIR:-/opt/econplan-stores}
stores=("$@")
[ ${#stores[@]} -eq 0 ] && stores=(virtuoso fuseki)
status=0
for s in "${stores[@]}"; do
  case "$s" in
    virtuoso)
      if command -v virtuoso-t >/dev/null 2>&1 && command -v isql-vt >/dev/null 2>&1; then
        continue
      fi
      if [ "$(id -u)" != "0" ]; then
        echo "setup-stores: virtuoso-t missing and not root: apt-get install virtuoso-opensource-7-bin" >&2
        status=1; continue
      fi
      echo "setup-stores: installing virtuoso-opensource-7-bin" >&2
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
         virtuoso-opensource-7-bin) >/dev/null 2>&1 \
        || { echo "setup-stores: could not install virtuoso-opensource-7-bin" >&2; status=1; }
      ;;
    fuseki)
      jar="$FUSEKI_DIR/jena-fuseki-server.jar"
      [ -s "$jar" ] && continue
      if ! command -v mvn >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
        echo "setup-stores: Fuseki needs java (17) and mvn" >&2; status=1; continue
      fi
      mkdir -p "$FUSEKI_DIR"
      log=$(mktemp)
      if mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
           -Dartifact=org.apache.jena:jena-fuseki-server:$FUSEKI_VERSION -DoutputDirectory="$FUSEKI_DIR" \
           >"$log" 2>&1 && [ -s "$FUSEKI_DIR/jena-fuseki-server-$FUSEKI_VERSION.jar" ]; then
        mv "$FUSEKI_DIR/jena-fuseki-server-$FUSEKI_VERSION.jar" "$jar"
      else
        echo "setup-stores: could not fetch org.apache.jena:jena-fuseki-server:$FUSEKI_VERSION:" \
             "$( (grep -o 'Unknown host [^ :]*' "$log" || tail -1 "$log") | head -1)" >&2
        status=1
      fi
      rm -f "$log"
      ;;
    *) echo "setup-stores: unknown store $s (virtuoso, fuseki)" >&2; status=1 ;;
  esac
done
exit $status
