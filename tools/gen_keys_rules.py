#!/usr/bin/env python3
"""Generates crates/pipeguard-secrets/rules/keys.toml: structural and generic
rules whose examples need random bodies (PEM blocks, base64 credentials).
Run it again to refresh the synthetic examples; the output is committed."""
import base64, json, random, string, pathlib

rnd = random.Random(20261125)  # deterministic: the committed file is stable
B64 = string.ascii_letters + string.digits + "+/"
AN = string.ascii_letters + string.digits

def r(n, alphabet=AN):
    return "".join(rnd.choice(alphabet) for _ in range(n))

# Examples added later draw from their own generator, so that the examples of
# every other rule stay as committed.
rnd2 = random.Random(20261208)

def r2(n, alphabet=AN):
    return "".join(rnd2.choice(alphabet) for _ in range(n))

def pem(kind, lines=6, json_escaped=False):
    body = [r(64, B64) for _ in range(lines)]
    sep = "\\n" if json_escaped else "\n"
    return f"-----BEGIN {kind}-----{sep}" + sep.join(body) + f"{sep}-----END {kind}-----"

def b64(s):
    return base64.b64encode(s.encode()).decode()

def b64u(obj):
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

def q(s):
    """TOML literal string, or basic string if it holds a quote or newline."""
    if "'" not in s and "\n" not in s:
        return "'" + s + "'"
    return json.dumps(s)

rules = []
def rule(**kw):
    rules.append(kw)

# Quotes too: keys split over string literals ("-----BEGIN…\n"\n "MIIE…") are keys.
PEM_CLASS = r"""[A-Za-z0-9+/=\s\\:,\-"']"""
for ident, kind, name, sev in [
    ("private-key-rsa", "RSA PRIVATE KEY", "RSA private key (PEM)", "critical"),
    ("private-key-ec", "EC PRIVATE KEY", "EC private key (PEM)", "critical"),
    ("private-key-dsa", "DSA PRIVATE KEY", "DSA private key (PEM)", "critical"),
    ("private-key-openssh", "OPENSSH PRIVATE KEY", "OpenSSH private key", "critical"),
    ("private-key-pkcs8", "PRIVATE KEY", "PKCS#8 private key (PEM)", "critical"),
    ("private-key-pkcs8-encrypted", "ENCRYPTED PRIVATE KEY", "Encrypted PKCS#8 private key", "medium"),
    ("private-key-pgp", "PGP PRIVATE KEY BLOCK", "PGP private key block", "critical"),
    ("private-key-ssh2", "SSH2 ENCRYPTED PRIVATE KEY", "SSH2 private key", "high"),
]:
    begin = f"-----BEGIN {kind}-----"
    rule(id=ident, name=name, keywords=[begin.lower().strip("-")],
         regex=r"(-----BEGIN " + kind + r"-----" + PEM_CLASS + r"{64,16384}?-----END " + kind + r"-----)",
         severity=sev, confidence="high", multiline=True,
         remediation="Treat the key as compromised: revoke it wherever it is trusted (authorized_keys, certificates, cloud key pairs), generate a new one, and keep private keys out of the repository (a secret store or BuildKit --mount=type=secret).",
         examples=[pem(kind), "{\"signing_key\": \"" + pem(kind, 4, True) + "\\n\"}"],
         negative_examples=[f"-----BEGIN {kind}-----\n...\n-----END {kind}-----",
                            "-----BEGIN PUBLIC KEY-----\n" + r(64, B64) + "\n-----END PUBLIC KEY-----"])

rule(id="private-key-putty", name="PuTTY private key", keywords=["putty-user-key-file-"],
     regex=r"(PuTTY-User-Key-File-[23]: [a-z0-9\-]+\s+Encryption: [a-z0-9\-]+\s+Comment: [^\n]*\s+Public-Lines: \d+\s+[A-Za-z0-9+/=\s]{16,8192}?Private-Lines: \d+\s+[A-Za-z0-9+/=\s]{16,8192}?Private-MAC: [a-f0-9]{40,64})",
     severity="critical", confidence="high", multiline=True,
     examples=["PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n" + r(64, B64) + "\n" + r(40, B64) + "\nPrivate-Lines: 2\n" + r(64, B64) + "\n" + r(52, B64) + "\nPrivate-MAC: " + r(40, "0123456789abcdef")],
     negative_examples=["PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nComment: deploy\nPublic-Lines: 2\n"])

rule(id="age-secret-key", name="age secret key", keywords=["age-secret-key-1"],
     regex=r"\b(AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58})\b",
     severity="critical", confidence="high",
     remediation="Generate a new age identity (age-keygen), re-encrypt the files for the new recipient, and keep the identity file outside the repository.",
     examples=["AGE-SECRET-KEY-1" + r(58, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L")],
     negative_examples=["AGE-SECRET-KEY-1" + r(20, "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"), "age1" + r(58, "qpzry9x8gf2tvdw0s3jn54khce6mua7l")])

rule(id="wireguard-private-key", name="WireGuard private key", keywords=["privatekey"],
     regex=r"(?i)PrivateKey\s*=\s*([A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=)",
     severity="high", confidence="high",
     examples=["[Interface]\nPrivateKey = " + r(42, B64) + "Y=\nAddress = 10.0.0.2/32"],
     negative_examples=["PrivateKey = <private key of the peer>", "PublicKey = " + r(42, B64) + "Y="])

hdr = b64u({"alg": "HS256", "typ": "JWT"})
rule(id="jwt", name="JSON Web Token", keywords=["eyj"],
     regex=r"\b(eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,})",
     severity="medium", confidence="medium", validate="jwt",
     remediation="A signed token is a bearer credential until it expires: revoke the session or rotate the signing key if it is long-lived, and do not commit tokens.",
     examples=["Authorization: Bearer " + hdr + "." + b64u({"sub": "svc-deploy", "iat": 1764028800, "scope": "deploy"}) + "." + r(43, AN + "-_")],
     negative_examples=["eyJub3RhIjoiand0In0.eyJzdWIiOiIxMjMifQ." + r(43, AN + "-_"), "token: eyJ..."])

rule(id="url-credentials", name="Password in URL", keywords=["://"],
     regex=r"\b[a-zA-Z][a-zA-Z0-9+.\-]{1,20}://[^\s:/@'\"<>]{0,64}:([^\s:/@'\"<>]{3,128})@[a-zA-Z0-9.\-\[\]]+",
     severity="high", confidence="medium", generic=True, min_entropy=2.0,
     remediation="Rotate the password, take it out of the URL, and pass it at run time (an environment variable or a credentials file outside the repository).",
     examples=["DATABASE_URL=postgres://app:" + r(20) + "@db.internal:5432/app", "git clone https://ci-bot:" + r(24) + "@git.corp.net/team/repo.git",
               "MONGO_URI=mongodb+srv://svc:" + r2(20) + "@cluster0.q4xz1.mongodb.net/app?retryWrites=true",
               "mongodb://root:" + r2(16) + "@mongo-0.mongo:27017,mongo-1.mongo:27017/admin?replicaSet=rs0",
               "DB=postgresql://app:" + r2(18) + "@10.0.3.7/app?sslmode=require",
               "mysql://wp:" + r2(16) + "@mysql.internal:3306/wordpress",
               "REDIS_URL=rediss://:" + r2(24) + "@cache.internal:6380/0",
               "broker_url = 'amqps://worker:" + r2(20) + "@mq.internal:5671/prod'"],
     negative_examples=["postgres://user:password@localhost/db", "https://user:${DB_PASSWORD}@db.internal/x", "redis://:changeme@localhost", "https://www.rust-lang.org/",
                        "mongodb+srv://<username>:<password>@cluster0.mongodb.net/", "postgresql://app:%s@db/app", "redis://:{password}@cache:6379", "amqp://guest:guest@localhost:5672/"])

rule(id="connection-string-password", name="Password in a connection string", keywords=["data source=", "server=", "host="],
     regex=r"(?i)(?:server|data source|host)\s*=[^;\n]{1,200};(?:[^;'\"\n]{0,200};){0,8}?\s*(?:password|pwd)\s*=\s*([^;'\"\s]{4,128})",
     severity="high", confidence="medium", generic=True, min_entropy=2.0,
     examples=['"Server=tcp:sql.corp.net,1433;Database=app;User ID=app;Password=' + r(18) + ';Encrypt=True"',
               'Driver={ODBC Driver 18 for SQL Server};Server=sql01;Database=erp;Uid=erp_rw;Pwd=' + r2(16) + ';',
               '"Host=pg.internal;Port=5432;Database=app;Username=app;Password=' + r2(18) + '"'],
     negative_examples=['"Server=tcp:sql.corp.net;Database=app;User ID=app;Password={your_password};"', '"Data Source=app.db;Password=${DB_PASS};"',
                        'Server=sql01;Database=erp;Uid=erp_rw;Pwd=<password>;'])

rule(id="jdbc-password", name="Password in a JDBC URL", keywords=["jdbc:"],
     regex=r"(?i)jdbc:[a-z0-9]+:[^\s'\"]{1,300}?[?;&]password=([^&;\s'\"]{4,128})",
     severity="high", confidence="medium", generic=True, min_entropy=2.0,
     examples=["spring.datasource.url=jdbc:mysql://db:3306/app?user=app&password=" + r(16),
               "jdbc:sqlserver://sql01:1433;databaseName=erp;user=erp;password=" + r2(16) + ";encrypt=true",
               "url: jdbc:postgresql://pg:5432/app?user=app&password=" + r2(16) + "&ssl=true"],
     negative_examples=["jdbc:mysql://db:3306/app?user=app&password=${DB_PASSWORD}", "jdbc:sqlserver://sql01;user=erp;password={password}"])

auth = b64("deploy:" + r(20))
rule(id="docker-config-auth", name="Docker registry credentials (config.json auth)", keywords=['"auth"'],
     regex=r"\"auth\"\s*:\s*\"([A-Za-z0-9+/]{8,512}={0,2})\"",
     severity="high", confidence="high", validate="base64-credentials",
     remediation="Rotate the registry password or token, and use a credential helper or the CI's registry login instead of a committed config.json.",
     examples=['{"auths": {"registry.corp.net": {"auth": "' + auth + '"}}}'],
     negative_examples=['{"auths": {"registry.corp.net": {"auth": "bm9jb2xvbmhlcmU="}}}', '{"auth": "${DOCKER_AUTH}"}'])

rule(id="npmrc-auth-basic", name="npm basic-auth credentials (.npmrc _auth)", keywords=["_auth"],
     regex=r"(?m)_auth\s*=\s*\"?([A-Za-z0-9+/]{8,512}={0,2})\"?\s*$",
     severity="critical", confidence="high", validate="base64-credentials",
     examples=["//registry.corp.net/:_auth=" + b64("ci:" + r(22))],
     negative_examples=["//registry.corp.net/:_auth=${NPM_AUTH}", "_auth=bm9jb2xvbmhlcmU="])

rule(id="http-basic-auth-header", name="HTTP Basic credentials in an Authorization header", keywords=["basic "],
     regex=r"(?i)authorization[\"']?\s*[:=]\s*[\"']?basic\s+([A-Za-z0-9+/]{8,512}={0,2})",
     severity="high", confidence="high", validate="base64-credentials",
     examples=["curl -H 'Authorization: Basic " + b64("svc:" + r(18)) + "' https://api.corp.net"],
     negative_examples=["Authorization: Basic $BASIC_TOKEN", "Authorization: Basic bm9jb2xvbmhlcmU="])

rule(id="http-bearer-token", name="Bearer token in an Authorization header", keywords=["bearer "],
     regex=r"(?i)authorization[\"']?\s*[:=]\s*[\"']?bearer\s+([A-Za-z0-9_\-.=~+/]{20,512})",
     severity="medium", confidence="medium", generic=True, min_entropy=3.5,
     examples=["curl -H \"Authorization: Bearer " + r(40) + "\" https://api.corp.net/v1"],
     negative_examples=["Authorization: Bearer ${API_TOKEN}", "Authorization: Bearer <token>"])

rule(id="netrc-password", name="Password in .netrc", keywords=["machine"],
     regex=r"machine\s+[^\s]+\s+(?:login\s+[^\s]+\s+)?password\s+([^\s]{4,128})",
     severity="high", confidence="high", generic=True, min_entropy=2.0, multiline=True,
     examples=["machine api.heroku.com\n  login ci@corp.net\n  password " + r(32)],
     negative_examples=["machine api.heroku.com login me password $HEROKU_API_KEY", "machine host password password"])

rule(id="kubernetes-secret-data", name="Kubernetes Secret data in a manifest", keywords=["kind: secret"],
     regex=r"(?m)^\s{2,}[A-Za-z0-9_.\-]+:\s+[\"']?([A-Za-z0-9+/]{12,4096}={0,2})[\"']?\s*$",
     severity="high", confidence="medium", validate="base64-printable", multiline=True,
     remediation="Rotate the values, delete the Secret manifest from the repository, and create Secrets from an external store (External Secrets, Sealed Secrets, SOPS) at deploy time.",
     examples=["apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ntype: Opaque\ndata:\n  password: " + b64(r(20)) + "\n"],
     negative_examples=["apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\ndata: {}\n", "apiVersion: v1\nkind: ConfigMap\ndata:\n  password: " + b64(r(20)) + "\n"])

rule(id="kubeconfig-client-key", name="Kubernetes client key in a kubeconfig", keywords=["client-key-data"],
     regex=r"client-key-data:\s*([A-Za-z0-9+/]{64,16384}={0,2})",
     severity="critical", confidence="high", validate="base64-printable",
     examples=["users:\n- name: admin\n  user:\n    client-key-data: " + b64(pem("RSA PRIVATE KEY", 3))],
     negative_examples=["    client-key-data: REDACTED", "    client-certificate-data: " + b64(pem("CERTIFICATE", 3))])

rule(id="curl-user-password", name="Password passed to curl -u", keywords=["curl"],
     regex=r"\bcurl\b[^\n]{0,300}?\s(?:-u|--user)\s+['\"]?[^\s:'\"]+:([^\s'\"]{4,128})",
     severity="high", confidence="medium", generic=True, min_entropy=2.5,
     examples=["curl -fsS -u deploy:" + r(20) + " https://nexus.corp.net/repository/raw/"],
     negative_examples=["curl -u deploy:$NEXUS_PASSWORD https://nexus.corp.net", "curl -u \"$USER:$PASS\" https://x"])

rule(id="sshpass-password", name="Password passed to sshpass -p", keywords=["sshpass"],
     regex=r"\bsshpass\s+-p\s*['\"]?([^\s'\"]{4,128})",
     severity="high", confidence="high", generic=True, min_entropy=2.0,
     examples=["sshpass -p '" + r(14) + "' ssh deploy@10.0.0.5"],
     negative_examples=["sshpass -p \"$SSH_PASS\" ssh host", "sshpass -e ssh host"])

rule(id="xml-password", name="Password in an XML element", keywords=["<password>", "<passphrase>"],
     regex=r"(?i)<(?:password|passphrase)>([^<\s]{4,128})</(?:password|passphrase)>",
     severity="high", confidence="medium", generic=True, min_entropy=2.5,
     examples=["<server><id>nexus</id><username>ci</username><password>" + r(20) + "</password></server>"],
     negative_examples=["<password>${env.NEXUS_PASSWORD}</password>", "<password>password</password>"])

KW = ["password", "passwd", "pwd"]
# Files where `NAME=value` lines are configuration, not code.
ENV_FILES = ["*.env", ".env", ".env.*", "*.envrc", ".envrc", "*.sh", "*.bash", "*.zsh", "*.ksh",
             "*.properties", "*.conf", "*.cfg", "*.ini", "Dockerfile", "Dockerfile.*", "*.dockerfile",
             "Containerfile", "*.mk", "Makefile", "Jenkinsfile", "*.yml", "*.yaml", "*.txt", "*.service"]
rule(id="generic-password", name="Hard-coded password", keywords=KW,
     regex=r"(?i)[\w.\-]{0,40}?(?:password|passwd|pwd)[\w.\-]{0,20}[\"']?\s{0,3}(?:=|:|:=|=>)\s{0,3}[\"']([^\"'\s]{6,128})[\"']",
     severity="medium", confidence="medium", generic=True,
     remediation="Move the password to a secret store or the CI's secret variables, read it from the environment at run time, and rotate it since it was committed.",
     examples=['db_password = "' + r(16) + '"', 'config = {"adminPassword": "' + r(14) + '"}'],
     negative_examples=['password = "password"', 'password = os.environ["DB_PASSWORD"]', 'password: "${{ secrets.DB_PASSWORD }}"', 'password = "<your-password>"', 'hashed_password = "da39a3ee5e6b4b0d3255bfef95601890afd80709"'])

SKW = ["secret", "token", "api_key", "apikey", "api-key", "access_key", "accesskey", "auth_key", "client_secret"]
rule(id="generic-api-key", name="Hard-coded secret, token or API key", keywords=SKW,
     regex=r"(?i)[\w.\-]{0,40}?(?:secret|token|api[_\-]?key|access[_\-]?key|auth[_\-]?key)[\w.\-]{0,20}[\"']?\s{0,3}(?:=|:|:=|=>)\s{0,3}[\"']([A-Za-z0-9+/=_\-.~]{16,256})[\"']",
     severity="medium", confidence="low", generic=True, min_entropy=3.5,
     remediation="Move the value to a secret store or the CI's secret variables, read it at run time, and rotate it since it was committed.",
     examples=['API_KEY = "' + r(32) + '"', 'client_secret: "' + r(40) + '"'],
     negative_examples=['api_key = "' + "0123456789abcdef" * 2 + '"', 'token = "3f2a1b9c-4d5e-4f60-8a7b-9c0d1e2f3a4b"', 'secret_name = "prod-database-credentials"', 'api_key: "${{ secrets.API_KEY }}"'])

rule(id="generic-env-secret", name="Secret in an environment assignment", keywords=KW + SKW,
     regex=r"(?m)^[ \t]*(?:export[ \t]+)?[A-Z][A-Z0-9_]{0,40}(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|APIKEY|ACCESS_KEY|PRIVATE_KEY)[A-Z0-9_]{0,20}[ \t]*=[ \t]*[\"']?([^\s\"'#$]{8,256})[\"']?[ \t]*$",
     severity="medium", confidence="medium", generic=True, min_entropy=3.0,
     paths=ENV_FILES,
     examples=["export DEPLOY_TOKEN=" + r(30), "DB_PASSWORD=" + r(16)],
     negative_examples=["export DEPLOY_TOKEN=$CI_JOB_TOKEN", "DB_PASSWORD=", "SECRET_KEY_FILE=/run/secrets/key"])

rule(id="generic-yaml-secret", name="Secret in an unquoted YAML value", keywords=KW + SKW,
     regex=r"(?im)^[ \t]*[\w.\-]*(?:password|passwd|secret|token|api[_\-]?key)[\w.\-]*:[ \t]+([^\s'\"#{}$&*!|>][^\s'\"#{}]{11,127})[ \t]*$",
     severity="medium", confidence="low", generic=True, min_entropy=3.5,
     paths=["*.yml", "*.yaml"],
     examples=["smtp:\n  password: " + r(24) + "\n"],
     negative_examples=["  password: ${SMTP_PASSWORD}\n", "  token: !vault |\n", "  secret_ref: smtp-credentials-v2\n"])

out = ["# Generated by tools/gen_keys_rules.py: structural and generic rules.", "# Examples are synthetic (seeded random); regenerate rather than edit.", ""]
order = ["id", "name", "keywords", "regex", "severity", "confidence", "min_entropy", "validate", "generic", "multiline", "paths", "remediation", "references", "examples", "negative_examples"]
for rl in rules:
    out.append("[[rule]]")
    for k in order:
        if k not in rl:
            continue
        v = rl[k]
        key = k.replace("_", "-")
        if k == "regex":
            assert "'''" not in v
            out.append(f"{key} = '''{v}'''")
        elif isinstance(v, bool):
            out.append(f"{key} = {'true' if v else 'false'}")
        elif isinstance(v, float):
            out.append(f"{key} = {v}")
        elif isinstance(v, list):
            out.append(f"{key} = [")
            for item in v:
                out.append(f"    {q(item)},")
            out.append("]")
        else:
            out.append(f"{key} = {q(v)}")
    out.append("")
path = pathlib.Path(__file__).resolve().parent.parent / "crates/pipeguard-secrets/rules/keys.toml"
path.write_text("\n".join(out))
print(f"{len(rules)} rules -> {path}")
