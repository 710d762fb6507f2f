import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";

import { ChangeEventSchema, type ChangeEvent } from "../gen/catapult/v1/change_pb";
import { DeploymentSchema, type Deployment } from "../gen/catapult/v1/deployment_pb";
import { addChanges, withChanges } from "./live";

function deployment(id: string, status = "success"): Deployment {
  return create(DeploymentSchema, { id, status, endpointUrl: `https://${id}.example.test` });
}

function event(type: string, d: Deployment): ChangeEvent {
  return create(ChangeEventSchema, { type, resourceType: "deployment", resourceId: d.id, resource: { case: "deployment", value: d } });
}

const ids = (list: readonly Deployment[]) => list.map((d) => `${d.id}:${d.status}`);

describe("a list kept current by a watch", () => {
  const listed = [deployment("b"), deployment("a")];

  it("puts a new live deployment on top and drops the one it superseded", () => {
    const changes = addChanges(new Map(), [event("superseded", deployment("a", "terminated")), event("created", deployment("c"))]);
    expect(ids(withChanges(listed, changes, true))).toEqual(["c:success", "b:success"]);
  });

  it("keeps past deployments in a list with history, changed in place", () => {
    const changes = addChanges(new Map(), [event("superseded", deployment("a", "terminated")), event("created", deployment("c"))]);
    expect(ids(withChanges(listed, changes, false))).toEqual(["c:success", "b:success", "a:terminated"]);
  });

  it("keeps each deployment's latest change, newest arrivals first", () => {
    let changes = addChanges(new Map(), [event("created", deployment("c", "deploying"))]);
    changes = addChanges(changes, [event("created", deployment("d"))]);
    changes = addChanges(changes, [event("updated", deployment("c"))]);
    expect(ids(withChanges(listed, changes, true))).toEqual(["c:success", "d:success", "b:success", "a:success"]);
    // Not live yet: a live list leaves it out until it is.
    const deploying = addChanges(new Map(), [event("created", deployment("e", "deploying"))]);
    expect(ids(withChanges(listed, deploying, true))).toEqual(["b:success", "a:success"]);
  });

  it("removes a deleted deployment, and gives the same list when the server already has the changes", () => {
    const changes = addChanges(new Map(), [event("deleted", deployment("b", "terminated")), event("created", deployment("c"))]);
    const once = withChanges(listed, changes, false);
    expect(ids(once)).toEqual(["c:success", "a:success"]);
    expect(ids(withChanges(once, changes, false))).toEqual(ids(once));
  });
});
