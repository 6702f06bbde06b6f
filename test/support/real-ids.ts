/**
 * Ids in the shapes real DingTalk issues them (as its API reference and real answers show them),
 * for the tests of every entry point and for fuzz cases. The sandbox's own defaults ("cid-sandbox",
 * "sandbox-union", "sandbox-space") hide what these catch: base64 "/", "+", "=" in a conversation id, long
 * numeric strings that must never become numbers.
 */
export const REAL_IDS = {
  /** `cid` + base64: public examples. */
  conversationIds: ["cidOuTaLz7/D7zkkM/5PlrQQA==", "cidloxMLX2bSKUQPGOoXsE+Bg=="],
  unionIds: ["ZsGGk1JnRAiPDsm8WQiSYrAiEiE", "iPiSCjnCiPpVbrHkFbqmiPFgiEiE"],
  /** Ten digits and more; the last is above 2^53, so parsing it as a number would change it. */
  spaceIds: ["26373617452", "1839450722", "90071992547409931"],
  dentryIds: ["184463020201", "99024651773", "123456789012345678"],
  corpIds: ["dingc7c5220402493357f2c783f7214b6d69"],
  get all(): string[] {
    return [...this.conversationIds, ...this.unionIds, ...this.spaceIds, ...this.dentryIds, ...this.corpIds];
  },
} as const;

/** The sandbox configured with real-shaped ids (its dentry ids are long numeric strings already). */
export const REAL_SANDBOX_IDS = {
  unionId: REAL_IDS.unionIds[0],
  spaceId: REAL_IDS.spaceIds[0],
  conversationId: REAL_IDS.conversationIds[0],
} as const;
