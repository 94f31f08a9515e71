/** Every Redis key Countersign uses, under one prefix (STYLE §8). */
export function redisKeys(prefix: string) {
  return {
    user: (id: string) => `${prefix}user:${id}`,
    username: (username: string) => `${prefix}username:${username}`,
    credential: (id: string) => `${prefix}credential:${id}`,
    userCredentials: (userId: string) => `${prefix}user-credentials:${userId}`,
    ceremony: (id: string) => `${prefix}ceremony:${id}`,
    login: (id: string) => `${prefix}login:${id}`,
    loginByCode: (userCode: string) => `${prefix}login-code:${userCode}`,
    session: (tokenHash: string) => `${prefix}session:${tokenHash}`,
    activity: (userId: string) => `${prefix}activity:${userId}`,
  };
}

export type RedisKeys = ReturnType<typeof redisKeys>;
