/** The input rule for the scopes a credential (API key, service account) is granted. */
import { z } from "zod";
import { ALL_SCOPES, isScope } from "../../auth/scopes.ts";

export const scopesRule = z
  .array(z.string())
  .min(1, "must name at least one scope")
  .max(ALL_SCOPES.length, `must name at most ${ALL_SCOPES.length} scopes`)
  .superRefine((scopes, ctx) => {
    const unknown = scopes.filter((s) => !isScope(s));
    if (unknown.length > 0) ctx.addIssue({ code: "custom", message: `unknown scope(s) ${unknown.join(", ")}; the scopes query lists them` });
  })
  .transform((scopes) => [...new Set(scopes)]);
