/*
 * opcli.h - the operator's commands on a running daemon: `dnad approvals
 * list|approve|reject` and `dnad alerts list|ack`, as HTTP requests to the
 * operator API (GET /v1/approvals, POST /v1/approvals/{id}/approve, ...)
 * over libcurl.
 *
 * The library writes what the operator reads to the FILE it is given and
 * returns an exit status; it never exits.
 */
#ifndef DNA_OPCLI_H
#define DNA_OPCLI_H

#include <stdio.h>

typedef struct OpcConfig {
    const char *url;            /* the daemon, "http://127.0.0.1:8080" */
    const char *token;          /* the API token, or NULL */
    int json;                   /* print the API's JSON answer as it came */
    long timeout_s;             /* per request; 0: 30 */
} OpcConfig;

typedef enum OpcWhat { OPC_APPROVALS, OPC_ALERTS } OpcWhat;

/* A list: state (NULL: the API's default), entity (alerts only: KIND/KEY, or NULL). */
int opc_list(const OpcConfig *c, OpcWhat what, const char *state, const char *entity, FILE *out, FILE *err);

/* An action on one id: "approve", "reject" (approvals) or "ack" (alerts), by (or NULL).
 * Exit status: 0 accepted (or a retry of a pending one), 1 refused by the API
 * (unknown id, already decided, bad token), 2 the daemon cannot be reached
 * or answered something unreadable. */
int opc_act(const OpcConfig *c, OpcWhat what, const char *id, const char *verb, const char *by, FILE *out, FILE *err);

#endif
