// The outcome of a button-triggered write (deprecate, terminate, revoke): the server's message
// when it refuses, shown next to the button.
import { useState } from "react";

import { toProblem, type Problem } from "../api/errors";
import { ErrorNotice } from "./states";

export function useAction(): {
  problem: Problem | null;
  run: (action: () => Promise<unknown>) => Promise<boolean>;
} {
  const [problem, setProblem] = useState<Problem | null>(null);
  async function run(action: () => Promise<unknown>): Promise<boolean> {
    setProblem(null);
    try {
      await action();
      return true;
    } catch (error) {
      setProblem(toProblem(error));
      return false;
    }
  }
  return { problem, run };
}

export function ActionError({ problem }: { problem: Problem | null }) {
  return problem ? <ErrorNotice problem={problem} /> : null;
}
